import { Kernel } from '../kernel/kernel.js';
import { ConfigError } from '../config/errors.js';
import type { CliIO } from '../cli/command.js';
import { builtInPlugins } from './built-in-plugins.js';
import { DEFAULTS_FILE } from './paths.js';
import { registerSubsystems } from './subsystems.js';
import { SUBSYSTEM_TOPICS } from './subsystem-topics.js';

export interface DaemonOptions {
  configFile?: string;
  sim: boolean;
  demo: boolean;
  iface?: string;
  slac: boolean;
  control: 'mqtt' | 'can';
}

/**
 * The composition root: builds the kernel with the shipped plugins and the subsystems the options
 * ask for, runs until SIGINT/SIGTERM, then stops everything (contactors open before exit).
 */
export async function runDaemon(options: DaemonOptions, io: CliIO): Promise<number> {
  let kernel: Kernel;
  try {
    kernel = new Kernel({
      defaultsFile: DEFAULTS_FILE,
      configFile: options.configFile,
      configOverlay: controlOverlay(options),
      builtInPlugins: builtInPlugins(),
      subsystemTopics: SUBSYSTEM_TOPICS,
      configure: (k) => registerSubsystems(k, options, io),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`secc start: invalid configuration\n${error.message}\n`);
      return 1;
    }
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= kernel.stop());
  const done = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      kernel.logs.for('kernel').info({ signal }, 'shutting down');
      void stop().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });

  try {
    await kernel.start();
  } catch (error) {
    kernel.logs.for('kernel').fatal({ err: error }, 'start failed');
    await stop();
    io.stderr.write(`secc start: ${(error as Error).message}\n`);
    return 1;
  }
  await done;
  return 0;
}

/**
 * `--control can`: the charger's controller drives the charge process over CAN (the `can` plugin;
 * on the virtual bus with a simulated controller under --sim/--demo), and the MQTT API refuses
 * writes of what CAN now controls, as an OEM would configure it.
 */
function controlOverlay(options: DaemonOptions): unknown {
  if (options.control !== 'can') return undefined;
  const simulated = options.sim || options.demo;
  return {
    plugins: {
      can: { enabled: true, ...(simulated ? { config: { transport: 'virtual', simulateController: true } } : {}) },
      'mqtt-api': { config: { readOnly: ['ci/hlc/evse/#'] } },
    },
  };
}
