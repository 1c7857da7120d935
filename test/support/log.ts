/** A logger that records every line, so that tests can assert that an event was logged. */
import type { Logger, LogFn } from '@opensecc/plugin-api';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export function recordingLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const make = (level: string): LogFn =>
    ((a: unknown, b?: unknown) => {
      if (typeof a === 'string') lines.push({ level, message: a, fields: { ...bindings } });
      else lines.push({ level, message: typeof b === 'string' ? b : '', fields: { ...bindings, ...(a as Record<string, unknown>) } });
    }) as LogFn;
  return {
    lines,
    trace: make('trace'),
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    fatal: make('fatal'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

/** A line of that level whose message or fields match. */
export function hasLine(lines: readonly LogLine[], level: string, pattern: RegExp): boolean {
  return lines.some((l) => l.level === level && (pattern.test(l.message) || pattern.test(JSON.stringify(l.fields))));
}
