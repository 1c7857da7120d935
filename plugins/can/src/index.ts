/**
 * The CAN interface to the charger's own controller (Charge Control M section 10): CAN 2.0B with
 * 29-bit ids, 1 Mbit/s by default, on can0. It translates between CAN frames, as the message
 * database in config/can describes them, and the same bus topics the MQTT API carries.
 */
import { definePlugin, traceCan, type PluginManifest } from '@opensecc/plugin-api';
import { CONFIG_SCHEMA, DEFAULT_DATABASE, type CanPluginConfig } from './config.js';
import { loadDbc } from './dbc/parse.js';
import { canApiFrom, type CanApi } from './interface/api.js';
import { ControllerLink } from './interface/controller-link.js';
import { CAN_TOPICS } from './interface/topics.js';
import { SimulatedDcController } from './sim/dc-controller.js';
import { SocketCanTransport } from './transport/socketcan.js';
import type { CanTransport } from './transport/types.js';
import { VirtualCanBus } from './transport/virtual.js';

export * from './config.js';
export * from './dbc/model.js';
export * from './dbc/parse.js';
export * from './dbc/codec.js';
export * from './interface/api.js';
export * from './interface/values.js';
export * from './interface/topics.js';
export * from './interface/controller-link.js';
export * from './sim/dc-controller.js';
export * from './transport/types.js';
export * from './transport/virtual.js';
export * from './transport/socketcan.js';

export const manifest: PluginManifest = {
  name: 'can',
  version: '0.1.0',
  description: 'CAN interface to the EVSE controller (CAN 2.0B, 29-bit ids): the HLC topics over SocketCAN or a virtual bus',
  provides: ['charge-control-can'],
  requires: ['bus'],
  configSchema: CONFIG_SCHEMA,
  bus: {
    // Whatever the database maps is on these topics; canApiFrom checks the database against them at start.
    read: ['ci/hlc/#', 'ci/charging/state', 'ci/cp/state', 'ci/contactor/state', 'ci/trace/enabled'],
    write: ['ci/hlc/evse/#', 'ci/can/#', 'ci/trace/can'],
  },
  topics: CAN_TOPICS,
};

/** What the plugin offers as capability `charge-control-can` (tests, the simulator wiring). */
export interface CanPluginApi {
  readonly api: CanApi;
  readonly link: ControllerLink;
  readonly simulatedController: SimulatedDcController | undefined;
}

export default definePlugin<CanPluginConfig, CanPluginApi>({
  manifest,
  async start(ctx) {
    const config = ctx.config;
    const api = canApiFrom(loadDbc(config.database ?? DEFAULT_DATABASE));
    const bitrate = config.bitrate ?? api.baudrate;
    const transport: CanTransport =
      config.transport === 'virtual'
        ? VirtualCanBus.named(config.interface).endpoint('secc')
        : new SocketCanTransport({ iface: config.interface, bitrate, setBitrate: config.setBitrate });
    if (config.simulateController && config.transport !== 'virtual') throw new Error('plugins.can.config.simulateController needs transport "virtual"');
    const link = new ControllerLink({
      api,
      transport,
      bus: ctx.bus,
      log: ctx.log,
      bitrate,
      trace: (direction, frame) => traceCan(ctx.bus, () => ({ direction, id: frame.id, bytes: frame.data, iface: transport.iface })),
    });
    let simulated: SimulatedDcController | undefined;
    if (config.simulateController) {
      simulated = new SimulatedDcController({ api, transport: VirtualCanBus.named(config.interface).endpoint('sim-controller'), log: ctx.log.child({ component: 'sim-can-controller' }) });
      await simulated.start();
    }
    await link.start();
    return {
      api: { api, link, simulatedController: simulated },
      async stop() {
        await link.stop();
        await simulated?.stop();
      },
    };
  },
});
