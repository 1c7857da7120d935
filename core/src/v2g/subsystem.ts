/**
 * How the daemon wires V2G (and, with --sim/--demo, the simulated power supply and EV) into the
 * kernel. The daemon's composition root (daemon/subsystems.ts) calls `registerV2g` after it has
 * registered the board and the IEC 61851 controller.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SessionRecorder } from '../trace/session-recorder.js';
import { logDirOfConfig } from '../trace/files.js';
import type { Kernel } from '../kernel/kernel.js';
import { SimulatedEv, type SimulatedBoard } from '../hal/index.js';
import { SimulatedDcPowerSupply } from '../sim/dc-power-supply.js';
import { SimPncBackend } from '../sim/pnc-backend.js';
import { SimulatedAcEvse } from './iso2/sim-ac-evse.js';
import { runDcDemo } from '../sim/demo.js';
import { SimLinkHost } from '../sim/link.js';
import { controlPilotFromIec61851, SlacEvse } from '../slac/index.js';
import type { V2gChargingPort } from './charging-port.js';
import type { V2gConfig } from './config.js';
import { V2gService } from './service.js';

export const V2G_TOKEN = Symbol('V2g');

export interface RegisterV2gOptions {
  /** The IEC 61851 controller (or anything with its HLC members). */
  readonly charging: V2gChargingPort;
  /** The PLC interface (`--iface`); without it V2G listens on ::1 for a simulated EV. */
  readonly iface?: string;
  /**
   * `--sim`: simulated DC power supply on the ci/hlc/evse topics (it also accepts every session, as
   * the simulated customer side); with a simulated board that follows the session.
   */
  readonly sim: boolean;
  /** `--demo`: an in-process simulated EV runs DC sessions and the console shows their progress. */
  readonly demo: boolean;
  readonly board?: SimulatedBoard;
  /** Console for the demo's progress lines. */
  readonly console?: NodeJS.WritableStream;
  /** Name of the component V2G starts after (default 'iec61851'). */
  readonly after?: string;
  /**
   * With --sim and no --iface: the simulated PLC link + control pilot socket for `secc sim ev`
   * (default `<pluginHost.runDir>/sim-link.sock`); SLAC runs over it. false: none.
   */
  readonly simLinkPath?: string | false;
  /** A SimulatedEv already driving the board (e.g. the SLAC wiring's); the follower reuses it. */
  readonly simulatedEv?: SimulatedEv;
  /**
   * With --sim/--demo: the simulated DC supply answers on the ci/hlc/evse topics (default). false
   * when another simulated controller does, e.g. the CAN plugin's under --control can.
   */
  readonly simulatedSupply?: boolean;
}

/** Where `secc start --sim` puts the simulated link socket (relative paths: from the working directory, as runDir). */
export function defaultSimLinkPath(runDir: string): string {
  return resolve(runDir, 'sim-link.sock');
}

export function registerV2g(kernel: Kernel, options: RegisterV2gOptions): void {
  const config = ((kernel.config.current as unknown as { v2g?: Partial<V2gConfig> }).v2g ?? {}) as Partial<V2gConfig>;
  const log = kernel.logs.for('v2g');
  if (config.enabled === false) {
    log.info('high-level communication disabled (v2g.enabled = false): basic IEC 61851 charging only');
    return;
  }
  const after = options.after ?? 'iec61851';
  kernel.provide(
    V2G_TOKEN,
    () =>
      new V2gService({
        bus: kernel.bus.view({ kind: 'kernel', name: 'v2g' }),
        log,
        config,
        port: options.charging,
        ...(config.sdpPort !== undefined ? { sdpPort: config.sdpPort } : {}),
        ...(options.iface ? { iface: options.iface } : { host: '::1' }),
      }),
    { capability: 'v2g', component: (service) => ({ name: 'v2g', dependsOn: [after], start: () => service.start(), stop: () => service.stop() }) },
  );
  if (!options.sim && !options.demo) return;

  const withSupply = options.simulatedSupply !== false;
  if (withSupply) {
    const supply = new SimulatedDcPowerSupply({ bus: kernel.bus.view({ kind: 'kernel', name: 'sim-dc-supply' }), log: kernel.logs.for('sim-dc-supply'), authorize: true });
    kernel.lifecycle.add({ name: 'sim-dc-supply', start: () => supply.start(), stop: () => supply.stop() });
    // ISO 15118-2 AC: the simulated AC side (EVSEMaxCurrent, nominal voltage, a meter) on the same topics.
    const acEvse = new SimulatedAcEvse({ bus: kernel.bus.view({ kind: 'kernel', name: 'sim-ac-evse' }), log: kernel.logs.for('sim-ac-evse') });
    kernel.lifecycle.add({ name: 'sim-ac-evse', start: () => acEvse.start(), stop: () => acEvse.stop() });
  }

  // Plug & Charge: with the pnc plugin on a generated PKI, a simulated certificate backend answers its requests.
  const pnc = (kernel.config.current as unknown as { plugins?: { pnc?: { enabled?: boolean; config?: { pkiDir?: string } } } }).plugins?.pnc;
  if (pnc?.enabled !== false && pnc?.config?.pkiDir) {
    const backend = new SimPncBackend({ bus: kernel.bus.view({ kind: 'kernel', name: 'sim-pnc-backend' }), log: kernel.logs.for('sim-pnc-backend'), pkiDir: resolve(pnc.config.pkiDir) });
    kernel.lifecycle.add({ name: 'sim-pnc-backend', start: () => backend.start(), stop: () => backend.stop() });
  }

  const board = options.board;
  if (!board) return;
  const service = () => kernel.container.resolve<V2gService>(V2G_TOKEN);
  if (options.demo) {
    // The demo writes each session's report (plot + summary) beside the logs, from the V2G trace.
    const recorder = new SessionRecorder(kernel.bus.view({ kind: 'kernel', name: 'sim-ev-demo' }));
    const onSessionEnd = async (summary: { stop_reason: string }) => {
      const dir = logDirOfConfig(kernel.config.current);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `report-${new Date().toISOString().replace(/[:.]/g, '-')}.html`);
      return (await recorder.writeReport(file, undefined, summary.stop_reason)) ? `session report: ${file}` : undefined;
    };
    const demo = runDcDemo({ board, bus: kernel.bus, log: kernel.logs.for('sim-ev'), console: options.console ?? process.stderr, onSessionEnd, ...(config.sdpPort !== undefined ? { sdpPort: config.sdpPort } : {}) });
    kernel.lifecycle.add({
      name: 'sim-ev-demo',
      dependsOn: withSupply ? ['v2g', 'sim-dc-supply'] : ['v2g'],
      start: () => demo.start(),
      stop: () => {
        demo.stop();
        recorder.close();
      },
    });
    return;
  }
  // The simulated PLC link and control pilot for an EV simulator in another process.
  let host: SimLinkHost | undefined;
  if (!options.iface && options.simLinkPath !== false) {
    const runDir = (kernel.config.current as unknown as { pluginHost: { runDir: string } }).pluginHost.runDir;
    const path = options.simLinkPath ?? defaultSimLinkPath(runDir);
    const simHost = new SimLinkHost({ path, board, log: kernel.logs.for('sim-link') });
    host = simHost;
    let slac: SlacEvse | undefined;
    kernel.lifecycle.add({
      name: 'sim-link',
      dependsOn: [after],
      start: async () => {
        mkdirSync(dirname(path), { recursive: true });
        await simHost.start();
        slac = new SlacEvse({ link: simHost.slacLink, log: kernel.logs.for('slac'), bus: kernel.bus.view({ kind: 'kernel', name: 'slac' }), controlPilot: controlPilotFromIec61851(options.charging), setKey: false });
        slac.start();
      },
      stop: async () => {
        slac?.stop();
        await simHost.stop();
      },
    });
  }
  // An EV whose control pilot the daemon cannot see (a real EV stack on --iface, or a simulator
  // without the simulated link) talks V2G; the simulated board then acts as its control pilot:
  // plugged in (B) from the first V2G connection, C from PowerDelivery start to stop.
  const ev = options.simulatedEv ?? new SimulatedEv(board);
  const followed = () => !host?.connected;
  let unwatch: (() => void) | undefined;
  kernel.lifecycle.add({
    name: 'sim-board-follower',
    dependsOn: ['v2g'],
    start: () => {
      unwatch = service().on({
        connection: () => followed() && !ev.isPluggedIn && ev.plugIn(),
        powerDelivery: (on) => followed() && (on ? ev.requestPower() : ev.stopPower()),
        sessionEnd: () => followed() && setTimeout(() => ev.isPluggedIn && ev.unplug(), 100),
      });
    },
    stop: () => {
      unwatch?.();
      if (ev.isPluggedIn) ev.unplug();
      if (!options.simulatedEv) ev.dispose();
    },
  });
}
