import { writeFile } from 'node:fs/promises';
import type { Bus } from '@opensecc/plugin-api';
import { renderSessionReport } from './report.js';
import { TRACE_TOPIC, type V2gTraceRecord } from './topics.js';

/**
 * Keeps the V2G trace records of the sessions seen since it started, in memory, so that a
 * caller in the daemon (the --demo EV) can write a session's report the moment it ends, without
 * waiting for the logging plugin's files. Records arrive only while the V2G trace is on.
 */
export class SessionRecorder {
  private readonly sessions = new Map<string, V2gTraceRecord[]>();
  private readonly unsubscribe: () => void;

  constructor(bus: Pick<Bus, 'subscribe'>, private readonly maxSessions = 4) {
    this.unsubscribe = bus.subscribe<V2gTraceRecord>(TRACE_TOPIC.v2g, (message) => {
      const record = message.value;
      let list = this.sessions.get(record.session);
      if (!list) {
        this.sessions.set(record.session, (list = []));
        // Bounded: only the most recent sessions are kept.
        while (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
      }
      list.push(record);
    });
  }

  /** Session ids in the order they started. */
  ids(): string[] {
    return [...this.sessions.keys()];
  }

  records(session?: string): V2gTraceRecord[] {
    const id = session ?? this.ids().at(-1);
    return id === undefined ? [] : [...(this.sessions.get(id) ?? [])];
  }

  /** Write the report of a session (default: the last); returns false when no record of it was seen. */
  async writeReport(out: string, session?: string, stopReason?: string): Promise<boolean> {
    const id = session ?? this.ids().at(-1);
    const records = this.records(id);
    if (id === undefined || records.length === 0) return false;
    await writeFile(out, renderSessionReport(id, records, stopReason ? { stopReason } : {}));
    return true;
  }

  close(): void {
    this.unsubscribe();
  }
}
