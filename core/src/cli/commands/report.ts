import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command.js';
import { logDirOf, TraceSelectionError } from '../../trace/files.js';
import { writeSessionReport } from '../../trace/report-file.js';

const HELP = `usage: secc report [SESSION|last] [--out FILE] [--config PATH] [--dir DIR]

Writes a self-contained HTML page for one charging session of the V2G trace (default: the last):
EV target and EVSE present voltage and current, state of charge and the state machine over time
(with the CP state when the MQTT trace is on), and a summary: energy, duration, stop reason.
  --out FILE      where to write it (default: report-<SESSION>.html in the working directory)
  --config PATH   the operator config to read the logging directory from
  --dir DIR       the logging directory (default: plugins.logging.config.dir, var/log)`;

export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'HTML report of a charging session (voltage, current, SoC, states, energy)',
  help: HELP,
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { out: { type: 'string' }, config: { type: 'string' }, dir: { type: 'string' } }, strict: true, allowPositionals: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    const dir = logDirOf({ configFile: values.config, dir: values.dir });
    try {
      const report = await writeSessionReport(dir, (session) => resolve(values.out ?? `report-${session.replace(/[^0-9A-Za-z_-]/g, '_')}.html`), positionals[0]);
      io.stdout.write(`${report.out}: session ${report.session}, ${report.messages} messages\n`);
      return 0;
    } catch (error) {
      if (error instanceof TraceSelectionError) {
        io.stderr.write(`secc report: ${error.message} (trace directory ${dir})\n`);
        return 1;
      }
      throw error;
    }
  },
};
