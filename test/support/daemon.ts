/**
 * `secc` as separate processes, as a user runs it: the daemon (`secc start …` on a config file) and
 * the EV simulator (`secc sim ev …`, whose last stdout line is its JSON summary). Optionally inside
 * a network namespace (`ip netns exec`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `secc` entry point. */
export const SECC = fileURLToPath(new URL('../../../bin/secc.js', import.meta.url));

/** The battery most end-to-end sessions simulate: a few percent to charge, fast. */
export const SIM_EV_BATTERY = ['--soc', '78', '--target-soc', '80', '--capacity-wh', '400', '--speed', '4'];

/** Writes `document` as `dir`/config.json and returns its path. */
export function writeConfig(dir: string, document: object): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(document));
  return file;
}

function spawnSecc(args: readonly string[], options: { netns?: string; cwd?: string }): ChildProcessWithoutNullStreams {
  const argv = [process.execPath, SECC, ...args];
  const [command, rest] = options.netns ? ['ip', ['netns', 'exec', options.netns, ...argv]] : [argv[0]!, argv.slice(1)];
  return spawn(command, rest, { stdio: ['pipe', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
}

export interface DaemonProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** stdout and stderr as they came, interleaved. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first truthy `check()`; rejects after `timeoutMs` or when the daemon exits, with its output. */
  until<T>(what: string, check: () => T | undefined | false, timeoutMs: number): Promise<T>;
  /** The first output line matching `pattern` (waiting for it as `until`). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Signal it (SIGTERM by default) unless it has exited, and resolve with its exit code once its streams are closed. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `secc start --config CONFIG …args`. */
export function spawnDaemon(options: { config: string; args?: readonly string[]; netns?: string; cwd?: string }): DaemonProcess {
  const child = spawnSecc(['start', ...(options.args ?? []), '--config', options.config], options);
  child.stdin.end();
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => ((stdout += c.toString()), (output += c.toString())));
  child.stderr.on('data', (c: Buffer) => ((stderr += c.toString()), (output += c.toString())));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const until = <T>(what: string, check: () => T | undefined | false, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const start = Date.now();
      const poll = () => {
        const value = check();
        if (value) return resolve(value);
        if (exited()) return reject(new Error(`daemon exited (${child.exitCode ?? child.signalCode}) before ${what}; output:\n${output.slice(-3000)}`));
        if (Date.now() - start > timeoutMs) return reject(new Error(`no ${what} within ${timeoutMs} ms; output so far:\n${output.slice(-3000)}`));
        setTimeout(poll, 50);
      };
      poll();
    });
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    until,
    waitFor: (pattern, timeoutMs) => until(`line matching ${pattern}`, () => output.split('\n').find((l) => pattern.test(l)), timeoutMs),
    async stop(signal = 'SIGTERM') {
      if (!exited()) child.kill(signal);
      return closed;
    },
  };
}

export interface SimRun {
  readonly code: number | null;
  /** The JSON summary `secc sim ev` prints last; empty when there is none (the exit code and output say why). */
  readonly summary: Record<string, unknown>;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `secc sim ev …args` to its end. `settleMs` afterwards gives the daemon time to publish the session's
 * last values before the test reads them.
 */
export async function runSim(args: readonly string[], options: { netns?: string; settleMs?: number } = {}): Promise<SimRun> {
  const child = spawnSecc(['sim', 'ev', ...args], options);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  if (options.settleMs !== 0) await new Promise((r) => setTimeout(r, options.settleMs ?? 300));
  let summary: Record<string, unknown> = {};
  try {
    summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  } catch {
    // not a summary: left empty, the caller's exit-code assertion shows stdout and stderr
  }
  return { code, summary, stdout, stderr };
}
