import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command.js';
import { logDirOf, readV2gTrace, selectSession, sessionsOf, TraceSelectionError } from '../../trace/files.js';
import { v2gRecordsToPcapng } from '../../trace/v2g-pcapng.js';

const HELP = `usage: secc trace export --format pcapng|ndjson --out FILE [--session ID] [--config PATH] [--dir DIR]
       secc trace sessions [--config PATH] [--dir DIR] [--json]

export    writes the V2G trace of the last session (or of --session ID) recorded by the logging
          plugin: ndjson (one record per line: at, session, direction, protocol, payloadType, hex,
          decoded) or pcapng for Wireshark (Ethernet/IPv6/TCP framing around each V2GTP message,
          the decoded message as packet comment; plugins/logging/wireshark/v2gtp.lua dissects V2GTP)
sessions  lists the sessions in the trace
  --dir DIR       the logging directory (default: plugins.logging.config.dir of the config, var/log)
  --config PATH   the operator config to read that directory from`;

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        format: { type: 'string' },
        out: { type: 'string' },
        session: { type: 'string' },
        config: { type: 'string' },
        dir: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export const traceCommand: CliCommand = {
  name: 'trace',
  summary: 'export the V2G trace of a session (pcapng for Wireshark, or ndjson)',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'export' && sub !== 'sessions') throw new UsageError(sub === undefined ? 'missing subcommand (export, sessions)' : `unknown subcommand '${sub}'`);
    const options = parse(rest);
    const dir = logDirOf({ configFile: options.config, dir: options.dir });
    const { records, skipped } = readV2gTrace(dir);
    if (skipped) io.stderr.write(`warning: ${skipped} unreadable line(s) in the V2G trace skipped\n`);
    if (sub === 'sessions') {
      const sessions = sessionsOf(records);
      if (options.json) io.stdout.write(JSON.stringify(sessions) + '\n');
      else for (const s of sessions) io.stdout.write(`${s.id}  ${new Date(s.first).toISOString()}  ${((s.last - s.first) / 1000).toFixed(1)} s  ${s.messages} messages\n`);
      return 0;
    }
    if (options.format !== 'pcapng' && options.format !== 'ndjson') throw new UsageError(options.format === undefined ? 'missing --format pcapng|ndjson' : `--format must be pcapng or ndjson, not '${options.format}'`);
    if (!options.out) throw new UsageError('missing --out FILE');
    let selected;
    try {
      selected = selectSession(records, options.session);
    } catch (error) {
      if (error instanceof TraceSelectionError) {
        io.stderr.write(`secc trace export: ${error.message} (trace directory ${dir})\n`);
        return 1;
      }
      throw error;
    }
    const out = resolve(options.out);
    const data = options.format === 'pcapng' ? v2gRecordsToPcapng(selected.records) : selected.records.map((r) => JSON.stringify(r) + '\n').join('');
    await writeFile(out, data);
    io.stdout.write(`${out}: ${selected.records.length} V2G messages of session ${selected.id} (${options.format})\n`);
    return 0;
  },
};
