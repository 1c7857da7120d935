/**
 * The daemon as `secc start` composes it (core/src/daemon/daemon.ts), in the test process so
 * the test can drive the simulated board: the shipped plugins, the subsystem topic list and
 * `registerSubsystems`. Only the config differs from the product's (temp dirs, no hot-load
 * watching, the MQTT plugins on a free loopback port or an external broker, every other shipped
 * plugin disabled, high-level communication off as on a basic AC charger).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Kernel } from '@opensecc/core/kernel/kernel';
import { builtInPlugins } from '@opensecc/core/daemon/built-in-plugins';
import { DEFAULTS_FILE } from '@opensecc/core/daemon/paths';
import { registerSubsystems, SUBSYSTEMS } from '@opensecc/core/daemon/subsystems';
import { SUBSYSTEM_TOPICS } from '@opensecc/core/daemon/subsystem-topics';
import type { DaemonOptions } from '@opensecc/core/daemon/daemon';
import { SimulatedBoard } from '@opensecc/core/hal/index';
import { Iec61851Controller } from '@opensecc/core/iec61851/index';
import { freePort } from '#support/net.js';

/** The MQTT plugins of issue 3; every other shipped plugin is switched off. */
const MQTT_PLUGINS = new Set(['mqtt-broker', 'mqtt-api']);
export const OTHER_PLUGINS_OFF = Object.fromEntries(builtInPlugins().filter((p) => !MQTT_PLUGINS.has(p.name)).map((p) => [p.name, { enabled: false }]));

/** Log lines the kernel wrote, parsed (printed as well when SECC_TEST_LOG=1). */
export class LogLines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env.SECC_TEST_LOG === '1') process.stderr.write(`${line}\n`);
    }
    done();
  }
}

export interface DaemonUnderTest {
  readonly kernel: Kernel;
  /** The board the daemon created (capability 'hal'), which the test plays the EV on. */
  readonly board: SimulatedBoard;
  readonly controller: Iec61851Controller;
  /** Where a customer's application connects. */
  readonly brokerUrl: string;
  readonly logs: LogLines;
  stop(): Promise<void>;
}

/** Broker: the embedded one (plugin mqtt-broker, on a free port) or an external URL (mqtt-broker disabled). */
export async function startDaemon(broker: { embedded: true } | { url: string }): Promise<DaemonUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'secc-e2e-daemon-'));
  const configFile = join(dir, 'config.json');
  const port = 'url' in broker ? undefined : await freePort();
  const document = {
    log: { level: 'info' },
    pluginHost: { watch: false, watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
    plugins: {
      ...OTHER_PLUGINS_OFF,
      'mqtt-broker': 'url' in broker ? { enabled: false } : { enabled: true, config: { host: '127.0.0.1', port } },
      // No url with the embedded broker: the API finds it through the broker's capability, as in the product.
      'mqtt-api': { enabled: true, config: 'url' in broker ? { url: broker.url } : {} },
    },
    // A basic AC charger: no high-level communication, so the PWM offers the allowed current.
    v2g: { enabled: false },
  };
  writeFileSync(configFile, JSON.stringify(document, null, 2));
  // `secc start` on this config (board.type 'simulated' by default): the simulated board.
  const options: DaemonOptions = { configFile, sim: false, demo: false, slac: false, control: 'mqtt' };
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
  const logs = new LogLines();
  const kernel = new Kernel({
    defaultsFile: DEFAULTS_FILE,
    configFile,
    builtInPlugins: builtInPlugins(),
    subsystemTopics: SUBSYSTEM_TOPICS,
    logDestination: logs,
    configure: async (k) => {
      await registerSubsystems(k, options, io);
    },
  });
  try {
    await kernel.start();
  } catch (error) {
    await kernel.stop(); // as the daemon does: whatever did start is stopped again
    throw error;
  }
  const board = kernel.capabilities.get('hal');
  const controller = kernel.capabilities.get('charging');
  if (!(board instanceof SimulatedBoard)) throw new Error("capability 'hal' is not the simulated board");
  if (!(controller instanceof Iec61851Controller)) throw new Error("capability 'charging' is not the IEC 61851 controller");
  if (kernel.container.resolve(SUBSYSTEMS.Board) !== board) throw new Error('the container holds another board than capability hal');
  return {
    kernel,
    board,
    controller,
    brokerUrl: 'url' in broker ? broker.url : `mqtt://127.0.0.1:${port}`,
    logs,
    stop: () => kernel.stop(),
  };
}
