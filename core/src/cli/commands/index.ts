import type { CliCommand } from '../command.js';
import { startCommand } from './start.js';
import { configCommand } from './config.js';
import { pluginCommand } from './plugin.js';
import { mqttCommand } from './mqtt.js';
import { slacCommand } from './slac.js';
import { exiCommand } from './exi.js';
import { logsCommand } from './logs.js';
import { traceCommand } from './trace.js';
import { supportBundleCommand } from './support-bundle.js';
import { reportCommand } from './report.js';
import { simCommand } from './sim.js';

/** Every `secc` subcommand, in the order `secc --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [startCommand, simCommand, configCommand, pluginCommand, mqttCommand, exiCommand, slacCommand, logsCommand, traceCommand, supportBundleCommand, reportCommand];
