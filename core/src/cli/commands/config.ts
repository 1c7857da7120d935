import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigService } from '../../config/config-service.js';
import { ConfigError, formatProblem, parseJsonDocument } from '../../config/errors.js';
import { DEFAULTS_FILE } from '../../daemon/paths.js';
import { builtInPlugins } from '../../daemon/built-in-plugins.js';
import { UsageError, type CliCommand } from '../command.js';

const HELP = `usage: secc config validate FILE

Checks an operator config file against the kernel's schema and the config schema of every
shipped plugin it configures. Prints each problem as FILE: PATH: REASON; exit 0 when valid, 1 when not.`;

export const configCommand: CliCommand = {
  name: 'config',
  summary: 'validate a config file',
  help: HELP,
  async run(args, io) {
    const [sub, file, ...extra] = args;
    if (sub !== 'validate') throw new UsageError(sub === undefined ? 'missing subcommand (validate)' : `unknown subcommand '${sub}'`);
    if (!file) throw new UsageError('missing FILE');
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const path = resolve(file);
    const service = new ConfigService({ defaultsFile: DEFAULTS_FILE });
    service.loadDefaultsSync();
    let problems;
    try {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new ConfigError([{ file: path, path: '', reason: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
      }
      const document = parseJsonDocument(text, path);
      // Plugin sections are checked against the shipped plugins' schemas (hot-loaded ones are
      // checked when they load, as their code is not known here).
      for (const plugin of builtInPlugins()) {
        let manifest;
        try {
          manifest = (await plugin.load()).manifest;
        } catch (error) {
          io.stderr.write(`warning: plugins.${plugin.name} not checked: the plugin cannot be loaded (${(error as Error).message.split('\n')[0]})\n`);
          continue;
        }
        if (manifest.configSchema) service.registerSection(plugin.name, `/plugins/${plugin.name}/config`, manifest.configSchema);
      }
      problems = service.validateDocument(document, path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    if (problems.length === 0) {
      io.stdout.write(`${path}: valid\n`);
      return 0;
    }
    for (const problem of problems) io.stderr.write(formatProblem(problem) + '\n');
    return 1;
  },
};
