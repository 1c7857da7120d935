import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { definePlugin, type BusMessage, type PluginContext, type PluginManifest, type Unsubscribe } from '@opensecc/plugin-api';
import { CONFIG_SCHEMA, intervalMs, withDefaults, type LoggingConfig, type TraceName } from './config.js';
import { candumpLine, LOG_FILES, mqttLine } from './formats.js';
import { RotatingFile } from './rotating-file.js';

export { CONFIG_SCHEMA, intervalMs, withDefaults, type LoggingConfig, type TraceName } from './config.js';
export { candumpLine, LOG_FILES, mqttLine, mqttPayload, unixNanos } from './formats.js';
export { RotatingFile, type RotatingFileOptions } from './rotating-file.js';

/** The kernel's trace topics (core/src/trace/topics.ts owns their definitions). */
export const TRACE_TOPICS = { v2g: 'ci/trace/v2g', slac: 'ci/trace/slac', can: 'ci/trace/can', enabled: 'ci/trace/enabled' } as const;

/** The kernel capability this plugin attaches to for the log lines (core/src/kernel/log-sink.ts). */
interface LogSinkApi {
  attach(listener: (line: string) => void): () => void;
}

export const manifest: PluginManifest = {
  name: 'logging',
  version: '0.1.0',
  description: 'Log files with rotation and retention, and live-switchable V2G, SLAC, MQTT and CAN traces (Charge Control M section 6.2)',
  provides: ['logging'],
  requires: ['bus'],
  configSchema: CONFIG_SCHEMA,
  // '#': the MQTT trace records every bus topic (bus topics are the MQTT topics 1:1).
  bus: { read: ['#'], write: [TRACE_TOPICS.enabled] },
};

/** What `use('logging')` returns (and what the tests drive). */
export interface LoggingApi {
  readonly dir: string;
  /** Resolves when every line queued so far is on disk. */
  flush(): Promise<void>;
  /** Lines written and dropped per file since start. */
  stats(): Record<string, { written: number; dropped: number }>;
}

type FileKey = 'log' | TraceName;

/** After the setImmediate callbacks queued so far (the deferred formatting of trace messages). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const DROP_NOTE: Record<FileKey, (count: number) => string> = {
  log: (n) => JSON.stringify({ level: 40, time: new Date().toISOString(), component: 'plugin:logging', msg: `dropped ${n} log lines: the disk did not keep up` }),
  v2g: (n) => JSON.stringify({ at: Date.now(), dropped: n }),
  slac: (n) => JSON.stringify({ at: Date.now(), dropped: n }),
  mqtt: (n) => mqttLine(Date.now(), '$opensecc/logging/dropped', String(n)).trimEnd(),
  can: () => '',
};

class Logging {
  private config: LoggingConfig;
  private dir: string;
  private readonly files = new Map<FileKey, RotatingFile>();
  private readonly subscriptions = new Map<FileKey, Unsubscribe>();
  private readonly totals = new Map<string, { written: number; dropped: number }>();
  private detachSink: (() => void) | undefined;
  private lastErrorReport = 0;

  constructor(private readonly ctx: PluginContext<Partial<LoggingConfig> & Record<string, unknown>>) {
    this.config = withDefaults(ctx.config);
    this.dir = resolve(this.config.dir);
  }

  get directory(): string {
    return this.dir;
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.apply();
    this.ctx.log.info({ dir: this.dir, traces: this.config.traces, file: this.config.file }, 'logging to files');
  }

  async reconfigure(next: LoggingConfig): Promise<void> {
    const layoutChanged =
      resolve(next.dir) !== this.dir || next.maxSizeMiB !== this.config.maxSizeMiB || next.maxFiles !== this.config.maxFiles ||
      next.rotateInterval !== this.config.rotateInterval || next.maxQueueMiB !== this.config.maxQueueMiB;
    if (layoutChanged) {
      // New place or rotation rules: switch every writer over to new files in one synchronous
      // step (no line falls between), then let the old files drain and close.
      await mkdir(resolve(next.dir), { recursive: true });
      const old = [...this.files.keys()];
      const closing = old.map((key) => this.files.get(key)!);
      for (const key of [...this.subscriptions.keys()]) this.unsubscribe(key);
      this.detachSink?.();
      this.detachSink = undefined;
      this.files.clear();
      this.config = next;
      this.dir = resolve(next.dir);
      this.apply();
      await nextTurn();
      await Promise.all(closing.map(async (file, i) => {
        await file.close();
        this.addTotals(old[i]!, file);
      }));
    } else {
      this.config = next;
      this.apply();
    }
    this.ctx.log.info({ dir: this.dir, traces: next.traces, file: next.file }, 'logging config applied');
  }

  async stop(): Promise<void> {
    for (const key of [...this.subscriptions.keys()]) this.unsubscribe(key);
    this.detachSink?.();
    this.detachSink = undefined;
    this.publishSwitches({ v2g: false, slac: false, mqtt: false, can: false });
    await nextTurn();
    await Promise.all([...this.files.keys()].map((key) => this.closeFile(key)));
  }

  async flush(): Promise<void> {
    await nextTurn(); // messages the bus handed over are formatted and queued by then
    await Promise.all([...this.files.values()].map((file) => file.flush()));
  }

  stats(): Record<string, { written: number; dropped: number }> {
    const out: Record<string, { written: number; dropped: number }> = {};
    for (const [name, total] of this.totals) out[name] = { ...total };
    for (const [key, file] of this.files) {
      const base = out[key] ?? { written: 0, dropped: 0 };
      out[key] = { written: base.written + file.written, dropped: base.dropped + file.dropped };
    }
    return out;
  }

  /** Open/close files and (un)subscribe so that what runs matches the config. */
  private apply(): void {
    const { traces } = this.config;
    this.setLogFile(this.config.file);
    this.setTrace('v2g', traces.v2g, TRACE_TOPICS.v2g, (m) => JSON.stringify(m.value));
    this.setTrace('slac', traces.slac, TRACE_TOPICS.slac, (m) => JSON.stringify(m.value));
    this.setTrace('can', traces.can, TRACE_TOPICS.can, (m) => {
      const r = m.value as { at: number; iface?: string; id: number; data: string };
      return candumpLine(r.at, r.iface ?? 'can0', r.id, r.data);
    });
    // Like mosquitto_sub -t '#', the trace starts with the retained state (firmware version included).
    this.setTrace('mqtt', traces.mqtt, '#', (m) => (m.topic.startsWith('ci/trace/') ? undefined : mqttLine(m.at, m.topic, m.value)), true);
    this.publishSwitches(traces);
  }

  private publishSwitches(switches: Record<TraceName, boolean>): void {
    try {
      this.ctx.bus.publish(TRACE_TOPICS.enabled, { v2g: switches.v2g, slac: switches.slac, mqtt: switches.mqtt, can: switches.can }, { retain: true });
    } catch (error) {
      this.ctx.log.warn({ err: error }, 'cannot publish the trace switches');
    }
  }

  private setLogFile(on: boolean): void {
    if (on && !this.detachSink) {
      let sink: LogSinkApi | undefined;
      try {
        sink = this.ctx.use<LogSinkApi>('log-sink');
      } catch {
        this.ctx.log.warn('the kernel offers no log-sink capability: log lines stay on stdout only, traces are written');
        return;
      }
      const file = this.file('log');
      this.detachSink = sink.attach((line) => void file.write(line));
    } else if (!on && this.detachSink) {
      this.detachSink();
      this.detachSink = undefined;
      void this.closeFile('log');
    }
  }

  private setTrace(key: TraceName, on: boolean, pattern: string, format: (message: BusMessage) => string | undefined, replay = false): void {
    if (on && !this.subscriptions.has(key)) {
      const file = this.file(key);
      // Bus delivery is synchronous, on the publisher's (V2G's) stack: the handler only keeps the
      // message; formatting (JSON.stringify of a decoded document) happens on the next turn.
      let pending: BusMessage[] = [];
      const formatPending = () => {
        const batch = pending;
        pending = [];
        for (const message of batch) {
          const line = format(message);
          if (line) file.write(line);
        }
      };
      this.subscriptions.set(
        key,
        this.ctx.bus.subscribe(pattern, (message) => {
          if (pending.push(message) === 1) setImmediate(formatPending);
        }, { replay }),
      );
    } else if (!on && this.subscriptions.has(key)) {
      this.unsubscribe(key);
      void this.closeFile(key);
    }
  }

  private unsubscribe(key: FileKey): void {
    this.subscriptions.get(key)?.();
    this.subscriptions.delete(key);
  }

  private file(key: FileKey): RotatingFile {
    let file = this.files.get(key);
    if (!file) {
      file = new RotatingFile({
        path: join(this.dir, LOG_FILES[key]),
        maxBytes: Math.max(1, Math.round(this.config.maxSizeMiB * 1024 * 1024)),
        maxFiles: this.config.maxFiles,
        intervalMs: intervalMs(this.config.rotateInterval),
        maxQueueBytes: Math.max(1024, Math.round(this.config.maxQueueMiB * 1024 * 1024)),
        dropNote: key === 'can' ? undefined : DROP_NOTE[key],
        onError: (error) => this.reportError(key, error),
      });
      this.files.set(key, file);
    }
    return file;
  }

  private async closeFile(key: FileKey): Promise<void> {
    const file = this.files.get(key);
    if (!file) return;
    this.files.delete(key);
    await nextTurn();
    await file.close();
    this.addTotals(key, file);
  }

  private addTotals(key: FileKey, file: RotatingFile): void {
    const total = this.totals.get(key) ?? { written: 0, dropped: 0 };
    this.totals.set(key, { written: total.written + file.written, dropped: total.dropped + file.dropped });
  }

  /** At most one report a minute: the report itself is a log line that may land in the failing file. */
  private reportError(key: FileKey, error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorReport < 60_000) return;
    this.lastErrorReport = now;
    this.ctx.log.error({ err: error, file: LOG_FILES[key], dir: this.dir }, 'cannot write log file; lines are dropped and counted');
  }
}

export default definePlugin<Partial<LoggingConfig> & Record<string, unknown>, LoggingApi>({
  manifest,
  async start(ctx) {
    const logging = new Logging(ctx);
    await logging.start();
    ctx.onConfigChange((config) => logging.reconfigure(withDefaults(config)));
    return {
      api: {
        get dir() {
          return logging.directory;
        },
        flush: () => logging.flush(),
        stats: () => logging.stats(),
      },
      stop: () => logging.stop(),
    };
  },
});
