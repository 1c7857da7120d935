import type { JSONSchema } from '@opensecc/plugin-api';
import { fileURLToPath } from 'node:url';

export interface CanPluginConfig {
  /** socketcan: the Linux interface; virtual: the in-process bus of that name (simulation, tests). */
  readonly transport: 'socketcan' | 'virtual';
  readonly interface: string;
  /** Bit/s. Unset: the database's Baudrate attribute (1 Mbit/s). */
  readonly bitrate?: number;
  /** Reconfigure the SocketCAN interface's bitrate with `ip link` when it differs. */
  readonly setBitrate: boolean;
  /** The message database (DBC). Unset: the shipped config/can/opensecc-evse.dbc. */
  readonly database?: string;
  /** Run the simulated DC power-supply controller on the (virtual) bus too (`secc start --sim --control can`). */
  readonly simulateController: boolean;
}

/** The shipped database, from plugins/can/dist (or src) up to the repository's config/can. */
export const DEFAULT_DATABASE = fileURLToPath(new URL('../../../config/can/opensecc-evse.dbc', import.meta.url));

export const CONFIG_SCHEMA: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    transport: { enum: ['socketcan', 'virtual'], default: 'socketcan', description: 'socketcan: a Linux CAN interface; virtual: an in-process bus (simulation, tests).' },
    interface: { type: 'string', minLength: 1, maxLength: 15, default: 'can0', description: 'Linux interface (socketcan) or virtual bus name.' },
    bitrate: { type: 'integer', minimum: 10000, maximum: 1000000, description: 'Bit/s; default: the database\'s Baudrate attribute (1 Mbit/s).' },
    setBitrate: { type: 'boolean', default: true, description: 'Set the interface\'s bitrate with `ip link` when it differs (needs root / CAP_NET_ADMIN).' },
    database: { type: 'string', minLength: 1, description: 'Path of the DBC message database; default: the shipped config/can/opensecc-evse.dbc.' },
    simulateController: { type: 'boolean', default: false, description: 'Also run the simulated DC power-supply controller on the bus (virtual transport only).' },
  },
};
