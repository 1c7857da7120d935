import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command.js';
import { logDirOf } from '../../trace/files.js';
import { writeSupportBundle } from '../../trace/support-bundle.js';

const HELP = `usage: secc support-bundle --out FILE [--config PATH] [--dir DIR]

Writes one tar.gz with what support asks for: version.json (charging software version), the
effective configuration with secrets redacted (config/), the logs (logs/), every trace (traces/:
V2G and SLAC as NDJSON, MQTT as mosquitto_sub -F '%U %t %p', CAN as candump log, the V2G trace as
pcapng) and the plugin states (run/). Values under keys such as password, secret, token, key or
passphrase are replaced by [REDACTED], in the config and wherever they occur in logs and traces.
  --config PATH   the operator config the daemon runs with
  --dir DIR       the logging directory (default: plugins.logging.config.dir, var/log)`;

export const supportBundleCommand: CliCommand = {
  name: 'support-bundle',
  summary: 'one tar.gz for support: version, redacted config, logs, traces',
  help: HELP,
  async run(args, io) {
    let options;
    try {
      options = parseArgs({ args, options: { out: { type: 'string' }, config: { type: 'string' }, dir: { type: 'string' } }, strict: true, allowPositionals: false }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (!options.out) throw new UsageError('missing --out FILE');
    const configFile = options.config ? resolve(options.config) : undefined;
    const result = await writeSupportBundle({ configFile, logDir: logDirOf({ configFile, dir: options.dir }), out: resolve(options.out) });
    io.stdout.write(`${result.out}: ${result.files.length} files (${result.redactedValues} secret value(s) redacted)\n`);
    return 0;
  },
};
