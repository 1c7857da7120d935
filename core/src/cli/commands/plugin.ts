import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigService } from '../../config/config-service.js';
import { DEFAULTS_FILE } from '../../daemon/paths.js';
import { builtInPlugins } from '../../daemon/built-in-plugins.js';
import { UsageError, type CliCommand } from '../command.js';
import type { PluginStatus } from '../../plugins/types.js';

const HELP = `usage: secc plugin list [--config PATH] [--json]

Lists plugins with their source (built-in, hot-loaded, sandboxed) and state. While the daemon
runs, the states are the live ones it reports; otherwise what the config would load.`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What the config would load, when no daemon is running. */
function configuredPlugins(config: ConfigService): PluginStatus[] {
  const current = config.current;
  const out: PluginStatus[] = builtInPlugins().map((p) => ({
    name: p.name,
    version: undefined,
    source: 'built-in',
    state: current.plugins[p.name]?.enabled === false ? 'disabled' : 'stopped',
    restarts: 0,
  }));
  const dir = resolve(current.pluginHost.watchDir);
  if (existsSync(dir)) {
    for (const item of readdirSync(dir)) {
      const path = join(dir, item);
      const isDir = statSync(path).isDirectory();
      if (!isDir && !/\.m?js$/.test(item)) continue;
      const name = isDir ? item : item.replace(/\.m?js$/, '');
      const entry = current.plugins[name];
      const sandboxed = entry?.sandbox ?? current.pluginHost.sandboxHotLoaded;
      out.push({ name, version: undefined, source: sandboxed ? 'sandboxed' : 'hot-loaded', state: entry?.enabled === false ? 'disabled' : 'stopped', restarts: 0, location: path });
    }
  }
  return out;
}

export const pluginCommand: CliCommand = {
  name: 'plugin',
  summary: 'list plugins with source and state',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'list') throw new UsageError(sub === undefined ? 'missing subcommand (list)' : `unknown subcommand '${sub}'`);
    let options;
    try {
      options = parseArgs({ args: rest, options: { config: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const config = new ConfigService({ defaultsFile: DEFAULTS_FILE, userFile: options.config ? resolve(options.config) : undefined });
    config.loadSync();
    const statusFile = join(resolve(config.current.pluginHost.runDir), 'plugins.json');
    let plugins: PluginStatus[];
    let live = false;
    if (existsSync(statusFile)) {
      const status = JSON.parse(readFileSync(statusFile, 'utf8')) as { pid: number; plugins: PluginStatus[] };
      live = isAlive(status.pid);
      plugins = live ? status.plugins : configuredPlugins(config);
    } else {
      plugins = configuredPlugins(config);
    }
    if (options.json) {
      io.stdout.write(JSON.stringify(plugins) + '\n');
      return 0;
    }
    io.stdout.write(live ? 'daemon running; live plugin states:\n' : 'daemon not running; plugins the config would load:\n');
    for (const p of plugins) {
      const extra = [p.version ? `v${p.version}` : '', p.restarts ? `restarts=${p.restarts}` : '', p.error ? `error: ${p.error}` : ''].filter(Boolean).join('  ');
      io.stdout.write(`  ${p.name.padEnd(20)} ${p.source.padEnd(10)} ${p.state.padEnd(10)} ${extra}\n`);
    }
    return 0;
  },
};
