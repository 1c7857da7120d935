/**
 * A tiny stand-in for the plugin host, so the MQTT plugins run in tests before (and independently
 * of) the real host: it builds the PluginContext the host would build (a bus view stamped with the
 * plugin's name, a pino logger, an abort signal, `use()` for capabilities) and calls `start`.
 * The lead can replace this with the real host; the tests only use `startPlugin`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger, PluginContext, PluginDefinition, PluginHandle } from '@opensecc/plugin-api';
import type { KernelBus } from '@opensecc/core/kernel/bus';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A pino logger whose lines are kept in memory (and printed when SECC_TEST_LOG=1). */
export function memoryLogger(name: string): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) {
        if (!text) continue;
        lines.push(JSON.parse(text) as LogLine);
        if (process.env.SECC_TEST_LOG === '1') process.stderr.write(`${text}\n`);
      }
      done();
    },
  });
  return { log: pino({ level: 'debug', base: { component: `plugin:${name}` } }, stream) as unknown as Logger, lines };
}

export interface StartedPlugin<Api> {
  readonly api: Api;
  readonly logLines: LogLine[];
  /** Hand a new (validated) config to the plugin's onConfigChange handlers, as the host does on a live change. */
  changeConfig(config: unknown): Promise<void>;
  /** Abort the signal and release the handle, as the host does on unload. */
  stop(): Promise<void>;
}

export async function startPlugin<Config, Api>(
  definition: PluginDefinition<Config, Api>,
  options: { bus: KernelBus; config: Config; capabilities?: Record<string, unknown> },
): Promise<StartedPlugin<Api>> {
  const name = definition.manifest.name;
  const abort = new AbortController();
  const { log, lines } = memoryLogger(name);
  const configHandlers: Array<(config: Config) => void | Promise<void>> = [];
  const context: PluginContext<Config> = {
    manifest: definition.manifest,
    config: options.config,
    bus: options.bus.view({ kind: 'plugin', name }),
    log,
    signal: abort.signal,
    onConfigChange: (handler) => void configHandlers.push(handler),
    use: <T>(capability: string): T => {
      if (options.capabilities && capability in options.capabilities) return options.capabilities[capability] as T;
      throw new Error(`nobody provides capability '${capability}'`);
    },
    dataDir: mkdtempSync(join(tmpdir(), `secc-${name}-`)),
  };
  const handle = ((await definition.start(context)) ?? {}) as PluginHandle<Api>;
  let stopped = false;
  return {
    api: handle.api as Api,
    logLines: lines,
    async changeConfig(config) {
      for (const handler of configHandlers) await handler(config as Config);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await handle.stop?.();
    },
  };
}
