import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command.js';
import { runDaemon } from '../../daemon/daemon.js';

const HELP = `usage: secc start [--config PATH] [--sim] [--demo] [--iface IFACE] [--no-slac] [--control mqtt|can]

Runs the charge controller daemon until SIGINT/SIGTERM.
  --config PATH     operator config layered over config/default.json (watched; valid edits apply live)
  --sim             simulated board and power supply; waits for an EV (the simulator in another process)
  --demo            also runs a simulated EV in-process and shows the session's progress (npm start)
  --iface IFACE     run SLAC, SDP and V2G on this Linux network interface
  --no-slac         with --iface: skip SLAC (an EV stack without SLAC on a plain Ethernet link)
  --control KIND    mqtt (default) or can: the interface through which the charger's controller drives charging`;

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run the daemon',
  help: HELP,
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          config: { type: 'string' },
          sim: { type: 'boolean', default: false },
          demo: { type: 'boolean', default: false },
          iface: { type: 'string' },
          'no-slac': { type: 'boolean', default: false },
          control: { type: 'string', default: 'mqtt' },
        },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (parsed.control !== 'mqtt' && parsed.control !== 'can') throw new UsageError(`--control must be mqtt or can, not '${parsed.control}'`);
    if (parsed['no-slac'] && !parsed.iface) throw new UsageError('--no-slac goes with --iface');
    return runDaemon(
      {
        configFile: parsed.config,
        sim: parsed.sim || parsed.demo,
        demo: parsed.demo,
        iface: parsed.iface,
        slac: !parsed['no-slac'],
        control: parsed.control,
      },
      io,
    );
  },
};
