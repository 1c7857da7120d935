import type { Logger, LogFn } from '@opensecc/plugin-api';
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import { iec61851Topics } from '@opensecc/core/iec61851/topics';
import { HLC_TOPICS } from '@opensecc/core/v2g/topics';
import { traceTopics } from '@opensecc/core/trace/topics';
import { CAN_TOPICS, canApiFrom, DEFAULT_DATABASE, loadDbc, type CanApi } from '@opensecc/plugin-can';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that records every line. */
export function recordingLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const make = (level: string): LogFn =>
    ((a: unknown, b?: unknown) => {
      if (typeof a === 'string') lines.push({ level, message: a, fields: { ...bindings } });
      else lines.push({ level, message: typeof b === 'string' ? b : '', fields: { ...bindings, ...(a as Record<string, unknown>) } });
    }) as LogFn;
  return { lines, trace: make('trace'), debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error'), fatal: make('fatal'), child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

/** The kernel's bus with the real registry (HLC, IEC 61851, trace and CAN topics): values are validated as in the daemon. */
export function makeBus(): KernelBus {
  const registry = new TopicRegistry();
  registry.add('v2g', HLC_TOPICS);
  registry.add('iec61851', iec61851Topics);
  registry.add('trace', traceTopics);
  registry.add('can', CAN_TOPICS);
  return new KernelBus({ validate: (t, v) => registry.validate(t, v), retainPolicy: (t) => registry.retained(t) });
}

export function shippedApi(): CanApi {
  return canApiFrom(loadDbc(DEFAULT_DATABASE));
}

export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
