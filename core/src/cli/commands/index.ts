import type { CliCommand } from '../command.js';

/**
 * Every `secc` subcommand, in the order `secc --help` lists them. A command's module is imported
 * only when it runs: the daemon (`secc start`) then carries none of the other commands' code and
 * dependencies (trace export, reports, the simulator, PKI tooling), which matters on a 128 MiB
 * device. `summary` repeats the module's own (a test keeps them equal).
 */
export interface LazyCliCommand {
  readonly name: string;
  readonly summary: string;
  load(): Promise<CliCommand>;
}

export const COMMANDS: readonly LazyCliCommand[] = [
  { name: 'start', summary: 'run the daemon', load: async () => (await import('./start.js')).startCommand },
  { name: 'sim', summary: 'run a simulated EV (SLAC, SDP, TCP/TLS, DIN 70121 DC) against a running daemon', load: async () => (await import('./sim.js')).simCommand },
  { name: 'config', summary: 'validate a config file', load: async () => (await import('./config.js')).configCommand },
  { name: 'plugin', summary: 'list plugins with source and state', load: async () => (await import('./plugin.js')).pluginCommand },
  { name: 'mqtt', summary: 'the MQTT topic registry (topics --json) and its documentation (docs)', load: async () => (await import('./mqtt.js')).mqttCommand },
  { name: 'exi', summary: 'decode EXI (hex) to JSON documents, or encode them back', load: async () => (await import('./exi.js')).exiCommand },
  { name: 'slac', summary: 'decode HomePlug AV / SLAC frames', load: async () => (await import('./slac.js')).slacCommand },
  { name: 'logs', summary: 'tail and filter the log by component and level', load: async () => (await import('./logs.js')).logsCommand },
  { name: 'trace', summary: 'export the V2G trace of a session (pcapng for Wireshark, or ndjson)', load: async () => (await import('./trace.js')).traceCommand },
  { name: 'support-bundle', summary: 'one tar.gz for support: version, redacted config, logs, traces', load: async () => (await import('./support-bundle.js')).supportBundleCommand },
  { name: 'report', summary: 'HTML report of a charging session (voltage, current, SoC, states, energy)', load: async () => (await import('./report.js')).reportCommand },
  { name: 'pki', summary: 'generate a test V2G PKI (ISO 15118-2 certificates and keys)', load: async () => (await import('./pki.js')).pkiCommand },
];
