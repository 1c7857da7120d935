import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Kernel } from '@opensecc/core/kernel/kernel';
import { LogSink } from '@opensecc/core/kernel/log-sink';
import { DEFAULTS_FILE } from '@opensecc/core/daemon/paths';
import type { CliIO } from '@opensecc/core/cli/command';
import type { V2gTraceRecord } from '@opensecc/core/trace/topics';
import type { LoggingApi } from '@opensecc/plugin-logging';

export const FIXTURE = fileURLToPath(new URL('../fixtures/din-session.ndjson', import.meta.url));
export const LUA_DISSECTOR = fileURLToPath(new URL('../../../plugins/logging/wireshark/v2gtp.lua', import.meta.url));

export function fixtureRecords(): V2gTraceRecord[] {
  return readFileSync(FIXTURE, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as V2gTraceRecord);
}

export function tempDir(prefix = 'opensecc-logging-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Why a system tool cannot be used (the test skips with this text), or false when it can. */
export function missingTool(command: string, hint: string): string | false {
  const found = spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  return found ? false : `${command} is not installed (${hint})`;
}

export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export function captureIO(): CliIO & { out: Capture; err: Capture } {
  const out = new Capture();
  const err = new Capture();
  return { stdout: out, stderr: err, stdin: process.stdin, out, err };
}

export interface LoggingKernel {
  kernel: Kernel;
  dir: string;
  logDir: string;
  configFile: string;
  stdout: Capture;
  writeConfig(logging: Record<string, unknown>): void;
}

/**
 * A kernel with only the logging plugin, its log dir in a temp dir. The kernel's LogSink is
 * installed here the way kernel.ts will (destination + 'log-sink' capability), so the test does
 * not depend on that hook.
 */
export function loggingKernel(logging: Record<string, unknown> = {}): LoggingKernel {
  const dir = tempDir();
  const logDir = join(dir, 'log');
  const configFile = join(dir, 'config.json');
  const writeConfig = (config: Record<string, unknown>) => {
    const document = {
      log: { level: 'info' },
      pluginHost: { watch: false, watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
      plugins: { 'mqtt-broker': { enabled: false }, 'mqtt-api': { enabled: false }, 'firmware-update': { enabled: false }, logging: { enabled: true, config: { dir: logDir, ...config } } },
    };
    writeFileSync(configFile, JSON.stringify(document, null, 2));
  };
  writeConfig(logging);
  const stdout = new Capture();
  const sink = new LogSink(stdout);
  const kernel = new Kernel({
    defaultsFile: DEFAULTS_FILE,
    configFile,
    logDestination: sink,
    builtInPlugins: [{ name: 'logging', load: async () => (await import('@opensecc/plugin-logging')).default }],
  });
  if (!kernel.capabilities.has('log-sink')) kernel.capabilities.set('log-sink', sink);
  return { kernel, dir, logDir, configFile, stdout, writeConfig };
}

export { waitFor } from '#support/wait.js';

export function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

/**
 * The running logging plugin's API (what another plugin gets from use('logging')). The host
 * offers it only to plugins, so the test reads it from the host's entry.
 */
export function loggingApi(kernel: Kernel): LoggingApi {
  const entries = (kernel.plugins as unknown as { entries: Map<string, { runner?: { api: unknown } }> }).entries;
  const api = entries.get('logging')?.runner?.api as LoggingApi | undefined;
  if (!api) throw new Error('the logging plugin is not running');
  return api;
}
