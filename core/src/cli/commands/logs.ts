import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command.js';
import { LOG_FILES, logDirOf, rotatedFiles } from '../../trace/files.js';
import { followLogs, formatLogLine, LEVELS, matches, parseLogLine, tailLogs, type LogFilter } from '../../trace/log-view.js';

const HELP = `usage: secc logs [-f] [-n N] [--component NAME]... [--level LEVEL] [--json] [--config PATH] [--dir DIR]

Shows the charging software's log (<dir>/opensecc.log and its rotated files, written by the
logging plugin), like 'tail -F /srv/log/local0.log' on the Charge Control M.
  -n, --lines N       the last N matching lines (default 50; 0 with -f shows only new ones)
  -f, --follow        keep printing new lines, across rotations, until Ctrl-C
  --component NAME    only this component (kernel, slac, v2g, plugin:mqtt-api, ...); a trailing *
                      matches a prefix (plugin:*); repeat for several
  --level LEVEL       at least this level: trace, debug, info, warn, error, fatal
  --json              print the JSON lines as written instead of the readable form
  --dir DIR           the logging directory (default: plugins.logging.config.dir, var/log)`;

export const logsCommand: CliCommand = {
  name: 'logs',
  summary: 'tail and filter the log by component and level',
  help: HELP,
  async run(args, io) {
    let options;
    try {
      options = parseArgs({
        args,
        options: {
          follow: { type: 'boolean', short: 'f', default: false },
          lines: { type: 'string', short: 'n', default: '50' },
          component: { type: 'string', multiple: true, default: [] },
          level: { type: 'string' },
          json: { type: 'boolean', default: false },
          config: { type: 'string' },
          dir: { type: 'string' },
        },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const count = Number(options.lines);
    if (!Number.isInteger(count) || count < 0) throw new UsageError(`-n takes a whole number, not '${options.lines}'`);
    if (options.level !== undefined && LEVELS[options.level] === undefined) throw new UsageError(`--level must be one of ${Object.keys(LEVELS).join(', ')}, not '${options.level}'`);
    const filter: LogFilter = { components: options.component, ...(options.level ? { level: options.level } : {}) };
    const dir = logDirOf({ configFile: options.config, dir: options.dir });
    if (!options.follow && rotatedFiles(dir, LOG_FILES.log).length === 0) {
      io.stderr.write(`secc logs: no log file in ${dir} (is the logging plugin enabled with plugins.logging.config.file?)\n`);
      return 1;
    }
    const print = (line: Record<string, unknown>, raw?: string) => io.stdout.write((options.json ? raw ?? JSON.stringify(line) : formatLogLine(line)) + '\n');
    for (const line of tailLogs(dir, filter, count)) print(line);
    if (!options.follow) return 0;
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await followLogs(dir, (raw) => {
        const line = parseLogLine(raw);
        if (line && matches(line, filter)) print(line, raw);
      }, controller.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  },
};
