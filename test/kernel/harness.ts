import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Kernel, type KernelOptions } from '@opensecc/core/kernel/kernel';
import { DEFAULTS_FILE } from '@opensecc/core/daemon/paths';
import { builtInPlugins } from '@opensecc/core/daemon/built-in-plugins';
import { waitFor as pollFor } from '#support/wait.js';

/** Config entries that switch every shipped plugin off, so kernel tests run the kernel alone. */
export const SHIPPED_PLUGINS_OFF = Object.fromEntries(builtInPlugins().map((p) => [p.name, { enabled: false }]));

/** Log lines a kernel wrote, parsed. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  find(predicate: (line: Record<string, unknown>) => boolean) {
    return this.lines.find(predicate);
  }
}

export interface TestKernel {
  kernel: Kernel;
  dir: string;
  pluginsDir: string;
  configFile: string;
  logs: LogCapture;
}

/** A kernel in a fresh temp dir with its own config file; shipped plugins off unless given. */
export function makeKernel(config: Record<string, unknown> = {}, options: Partial<KernelOptions> = {}, pluginHost: Record<string, unknown> = {}): TestKernel {
  const dir = mkdtempSync(join(tmpdir(), 'opensecc-kernel-'));
  const pluginsDir = join(dir, 'plugins');
  const configFile = join(dir, 'config.json');
  const document = {
    log: { level: 'info' },
    pluginHost: {
      watchDir: pluginsDir,
      dataDir: join(dir, 'data'),
      runDir: join(dir, 'run'),
      restart: { initialDelayMs: 50, maxDelayMs: 200, maxRestarts: 3, resetAfterMs: 60000 },
      ...pluginHost,
    },
    plugins: SHIPPED_PLUGINS_OFF,
    ...config,
  };
  writeFileSync(configFile, JSON.stringify(document, null, 2));
  const logs = new LogCapture();
  const kernel = new Kernel({ defaultsFile: DEFAULTS_FILE, configFile, logDestination: logs, ...options });
  return { kernel, dir, pluginsDir, configFile, logs };
}

/**
 * Resolve when `check` returns a truthy value; reject after `timeoutMs` naming what was awaited.
 * Generous by default: under the full suite (two test files at once, daemons and sandboxes) a
 * file-watch reload or a sandbox teardown can take seconds; a wait costs only when it fails.
 */
export const waitFor = <T>(what: string, check: () => T | undefined | false, timeoutMs = 15000): Promise<T> => pollFor(what, check, timeoutMs);
