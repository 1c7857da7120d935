import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigService } from '../config/config-service.js';
import { DEFAULTS_FILE } from '../daemon/paths.js';
import type { EffectiveConfig } from '../config/types.js';
import type { V2gTraceRecord } from './topics.js';

/**
 * The files the logging plugin writes under its directory (plugins.logging.config.dir). Each is
 * rotated logrotate-style: NAME is current, NAME.1 the newest archive, NAME.<n> the oldest.
 * plugins/logging keeps the same names (a test checks they agree).
 */
export const LOG_FILES = {
  log: 'opensecc.log',
  v2g: 'v2g.ndjson',
  slac: 'slac.ndjson',
  mqtt: 'mqtt.log',
  can: 'can.log',
} as const;

export const DEFAULT_LOG_DIR = 'var/log';

/** The logging directory the config names (relative paths resolve against the working directory). */
export function logDirOf(options: { configFile?: string; dir?: string }): string {
  if (options.dir) return resolve(options.dir);
  const config = new ConfigService({ defaultsFile: DEFAULTS_FILE, userFile: options.configFile ? resolve(options.configFile) : undefined });
  return logDirOfConfig(config.loadSync());
}

/** The logging directory of an effective config (the running daemon's `kernel.config.current`). */
export function logDirOfConfig(config: EffectiveConfig): string {
  const dir = (config.plugins.logging?.config as { dir?: unknown } | undefined)?.dir;
  return resolve(typeof dir === 'string' ? dir : DEFAULT_LOG_DIR);
}

/** NAME and its archives that exist, oldest first. */
export function rotatedFiles(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  const archives: Array<[number, string]> = [];
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(name + '.')) continue;
    const suffix = entry.slice(name.length + 1);
    if (/^\d+$/.test(suffix)) archives.push([Number(suffix), join(dir, entry)]);
  }
  archives.sort((a, b) => b[0] - a[0]);
  const out = archives.map(([, path]) => path);
  if (existsSync(join(dir, name))) out.push(join(dir, name));
  return out;
}

export interface NdjsonResult<T> {
  readonly records: T[];
  /** Lines that were not JSON (a line cut by a crash, say): skipped, counted. */
  readonly skipped: number;
}

export function readNdjson<T>(paths: readonly string[]): NdjsonResult<T> {
  const records: T[] = [];
  let skipped = 0;
  for (const path of paths) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as T);
      } catch {
        skipped++;
      }
    }
  }
  return { records, skipped };
}

export interface SessionSummary {
  readonly id: string;
  readonly first: number;
  readonly last: number;
  readonly messages: number;
}

/** Sessions in the order they started. */
export function sessionsOf(records: readonly V2gTraceRecord[]): SessionSummary[] {
  const byId = new Map<string, { id: string; first: number; last: number; messages: number }>();
  for (const record of records) {
    const entry = byId.get(record.session);
    if (entry) {
      entry.last = Math.max(entry.last, record.at);
      entry.messages++;
    } else {
      byId.set(record.session, { id: record.session, first: record.at, last: record.at, messages: 1 });
    }
  }
  return [...byId.values()].sort((a, b) => a.first - b.first);
}

export class TraceSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceSelectionError';
  }
}

/** The records of one session: the named one, or the one that started last ('last' or undefined). */
export function selectSession(records: readonly V2gTraceRecord[], id?: string): { id: string; records: V2gTraceRecord[] } {
  const sessions = sessionsOf(records);
  if (sessions.length === 0) throw new TraceSelectionError('the V2G trace is empty (is plugins.logging.config.traces.v2g on?)');
  let chosen: string;
  if (id === undefined || id === 'last') chosen = sessions[sessions.length - 1]!.id;
  else {
    const match = sessions.find((s) => s.id.toLowerCase() === id.toLowerCase());
    if (!match) throw new TraceSelectionError(`no session '${id}' in the V2G trace; known: ${sessions.map((s) => s.id).join(', ')}`);
    chosen = match.id;
  }
  return { id: chosen, records: records.filter((r) => r.session === chosen) };
}

/** All V2G records under a logging directory, oldest first. */
export function readV2gTrace(dir: string): NdjsonResult<V2gTraceRecord> {
  return readNdjson<V2gTraceRecord>(rotatedFiles(dir, LOG_FILES.v2g));
}
