import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { LOG_FILES, readV2gTrace, rotatedFiles, selectSession } from './files.js';
import { renderSessionReport, type StateChange } from './report.js';

/** IEC 61851 CP states of the MQTT trace (`%U %t %p` lines) within a time window. */
export function cpStatesFromMqttTrace(dir: string, from: number, to: number): StateChange[] {
  const out: StateChange[] = [];
  for (const file of rotatedFiles(dir, LOG_FILES.mqtt)) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^(\d+\.\d+) (ci\/cp\/state) (\S+)$/.exec(line);
      if (!match) continue;
      const at = Number(match[1]) * 1000;
      if (at >= from && at <= to) out.push({ at, machine: 'cp', state: match[3]! });
    }
  }
  return out;
}

export interface WrittenReport {
  readonly session: string;
  readonly out: string;
  readonly messages: number;
}

/**
 * Write the report of one session (or the last one) of the V2G trace under a logging directory.
 * The demo session calls this at its end; `secc report` too.
 */
export async function writeSessionReport(dir: string, out: string | ((session: string) => string), session?: string, stopReason?: string): Promise<WrittenReport> {
  const { records } = readV2gTrace(dir);
  const selected = selectSession(records, session);
  const first = selected.records[0]?.at ?? 0;
  const last = selected.records[selected.records.length - 1]?.at ?? 0;
  const states = cpStatesFromMqttTrace(dir, first - 5000, last + 5000);
  const html = renderSessionReport(selected.id, selected.records, { states, ...(stopReason ? { stopReason } : {}) });
  const path = typeof out === 'function' ? out(selected.id) : out;
  await writeFile(path, html);
  return { session: selected.id, out: path, messages: selected.records.length };
}
