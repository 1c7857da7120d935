import type { JSONSchema } from '@opensecc/plugin-api';
import type { AppProtocolName } from './apphand/negotiate.js';
import { DEFAULT_V2G_TIMEOUTS, type V2gTimeouts } from './connection-session.js';
import { DEFAULT_DIN_SECC_CONFIG } from './din/secc.js';
import { iso2ConfigSchema, type Iso2SeccConfig } from './iso2/config.js';
import { DEFAULT_MAX_PAYLOAD_LENGTH } from './transport/header.js';

/** The kernel config's `v2g` section. */
export interface V2gConfig {
  /** High-level communication on (5 % PWM, SLAC, SDP, V2G); off = basic IEC 61851 charging only. */
  readonly enabled: boolean;
  /** UDP port of SDP (15118 by the standard; another one only for test set-ups sharing a host). */
  readonly sdpPort: number;
  /** Transport security the SECC offers: plain TCP, TLS 1.2, or both (SDP answers what the EV asks for). */
  readonly security: 'none' | 'tls' | 'both';
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  /** TCP port of the V2G server; 'auto' = random in the dynamic range 49152-65535. */
  readonly port: number | 'auto';
  readonly tlsPort: number | 'auto';
  readonly maxPayloadLength: number;
  /** Protocols offered in the app handshake, most preferred first, and whose priority wins. */
  readonly protocols: readonly AppProtocolName[];
  readonly prefer: 'ev' | 'secc';
  readonly evseId: string;
  readonly timeouts: V2gTimeouts;
  readonly powerDeliveryTimeoutMs: number;
  /** Accept every session without waiting for ci/hlc/evse/authorization (free charging, simulation). */
  readonly autoAuthorize: boolean;
  readonly cableCheckNeedsStateC: boolean;
  /** ISO 15118-2: EVSEID, energy transfer modes, schedules, tariff, … (see iso2/config.ts). */
  readonly iso2?: Partial<Iso2SeccConfig>;
}

export const DEFAULT_V2G_CONFIG: V2gConfig = {
  enabled: true,
  sdpPort: 15118,
  security: 'none',
  port: 'auto',
  tlsPort: 'auto',
  maxPayloadLength: DEFAULT_MAX_PAYLOAD_LENGTH,
  protocols: ['iso15118-2', 'din70121'],
  prefer: 'ev',
  evseId: DEFAULT_DIN_SECC_CONFIG.evseId,
  timeouts: DEFAULT_V2G_TIMEOUTS,
  powerDeliveryTimeoutMs: DEFAULT_DIN_SECC_CONFIG.powerDeliveryTimeoutMs,
  autoAuthorize: false,
  cableCheckNeedsStateC: false,
};

const port = { anyOf: [{ const: 'auto' }, { type: 'integer', minimum: 0, maximum: 65535 }] };
const ms = (fallback: number, description: string) => ({ type: 'integer', minimum: 100, maximum: 600000, default: fallback, description });

/** JSON Schema of the `v2g` config section (defaults applied by the config loader). */
export const v2gConfigSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true, description: 'false: basic IEC 61851 charging only (nominal PWM, no SLAC/SDP/V2G)' },
    sdpPort: { type: 'integer', minimum: 1, maximum: 65535, default: 15118, description: 'SDP UDP port; 15118 by ISO 15118-2' },
    security: { enum: ['none', 'tls', 'both'], default: DEFAULT_V2G_CONFIG.security },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['certFile', 'keyFile'],
      properties: { certFile: { type: 'string' }, keyFile: { type: 'string' }, caFile: { type: 'string' } },
    },
    port: { ...port, default: 'auto' },
    tlsPort: { ...port, default: 'auto' },
    maxPayloadLength: { type: 'integer', minimum: 256, maximum: 1048576, default: DEFAULT_V2G_CONFIG.maxPayloadLength },
    protocols: { type: 'array', items: { enum: ['din70121', 'iso15118-2', 'iso15118-20-dc', 'iso15118-20-ac'] }, minItems: 1, uniqueItems: true, default: [...DEFAULT_V2G_CONFIG.protocols] },
    prefer: { enum: ['ev', 'secc'], default: DEFAULT_V2G_CONFIG.prefer },
    evseId: { type: 'string', pattern: '^([0-9a-fA-F]{2}){1,32}$', default: DEFAULT_V2G_CONFIG.evseId },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: { ...DEFAULT_V2G_TIMEOUTS },
      properties: {
        communicationSetupMs: ms(DEFAULT_V2G_TIMEOUTS.communicationSetupMs, 'V2G_SECC_CommunicationSetup_Performance_Time'),
        sequenceMs: ms(DEFAULT_V2G_TIMEOUTS.sequenceMs, 'V2G_SECC_Sequence_Timeout'),
        ongoingMs: ms(DEFAULT_V2G_TIMEOUTS.ongoingMs, 'V2G_SECC_Ongoing_Timeout'),
      },
    },
    powerDeliveryTimeoutMs: ms(DEFAULT_V2G_CONFIG.powerDeliveryTimeoutMs, 'contactor feedback wait at PowerDelivery'),
    autoAuthorize: { type: 'boolean', default: false },
    cableCheckNeedsStateC: { type: 'boolean', default: false },
    iso2: iso2ConfigSchema,
  },
};

export function resolveV2gConfig(partial: Partial<V2gConfig> = {}): V2gConfig {
  return { ...DEFAULT_V2G_CONFIG, ...partial, timeouts: { ...DEFAULT_V2G_TIMEOUTS, ...partial.timeouts } };
}
