import type { TopicDefinition } from '@opensecc/plugin-api';

/**
 * Trace topics the kernel owns. The timing-critical subsystems publish one non-retained message
 * per frame on them (through the helpers in ./publish.ts); the logging plugin subscribes and
 * writes them to disk. Nobody subscribed means the publish costs one map lookup.
 */
export const TRACE_TOPIC = {
  v2g: 'ci/trace/v2g',
  slac: 'ci/trace/slac',
  can: 'ci/trace/can',
  /** Which traces are being recorded (retained; written by the logging plugin). */
  enabled: 'ci/trace/enabled',
} as const;

export type TraceKind = 'v2g' | 'slac' | 'mqtt' | 'can';
export type TraceSwitches = Readonly<Record<TraceKind, boolean>>;

/** One V2GTP message as the SECC saw it. `hex` is the whole V2GTP message: 8-byte header + payload. */
export interface V2gTraceRecord {
  /** Milliseconds since the epoch (fractions allowed). */
  readonly at: number;
  /** The V2G session ID (hex) once known, else a connection id the V2G layer chooses. */
  readonly session: string;
  /** Seen from the SECC: rx = from the EV, tx = to the EV. */
  readonly direction: 'rx' | 'tx';
  /** 'apphand', 'din', 'iso2', 'iso20', 'iso20-dc', ... (the exi-codec schema names). */
  readonly protocol: string;
  /** V2GTP payload type (0x8001 EXI, 0x9000 SDP request, 0x9001 SDP response, 0x8002.. ISO-20). */
  readonly payloadType: number;
  readonly hex: string;
  /** The decoded document (CONTRACTS.md JSON form), when the layer has it at hand. */
  readonly decoded?: unknown;
  /** TCP endpoints, so an export can rebuild the real addresses (else synthetic link-local ones). */
  readonly tcp?: { readonly local: string; readonly localPort: number; readonly remote: string; readonly remotePort: number };
  /** The whole Ethernet frame (hex) when the raw link captured it; exported as is. */
  readonly frame?: string;
}

/** One SLAC (HomePlug AV management) Ethernet frame, destination MAC first. */
export interface SlacTraceRecord {
  readonly at: number;
  readonly direction: 'rx' | 'tx';
  readonly hex: string;
}

/** One CAN frame. `id` is the arbitration id (extended ids above 0x7ff), `data` hex. */
export interface CanTraceRecord {
  readonly at: number;
  readonly direction: 'rx' | 'tx';
  readonly iface?: string;
  readonly id: number;
  readonly data: string;
}

const hex = { type: 'string', pattern: '^([0-9a-f]{2})*$' };
const at = { type: 'number', minimum: 0 };
const direction = { enum: ['rx', 'tx'] };

export const traceTopics: TopicDefinition[] = [
  {
    topic: TRACE_TOPIC.v2g,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: {
      type: 'object',
      required: ['at', 'session', 'direction', 'protocol', 'payloadType', 'hex'],
      properties: {
        at,
        session: { type: 'string' },
        direction,
        protocol: { type: 'string' },
        payloadType: { type: 'integer', minimum: 0, maximum: 65535 },
        hex,
        decoded: {},
        tcp: {
          type: 'object',
          required: ['local', 'localPort', 'remote', 'remotePort'],
          properties: { local: { type: 'string' }, localPort: { type: 'integer' }, remote: { type: 'string' }, remotePort: { type: 'integer' } },
        },
        frame: hex,
      },
    },
    description: 'Trace: one V2GTP message (SDP, app handshake, DIN/ISO) with time, direction seen from the SECC, protocol, hex and decoded JSON.',
  },
  {
    topic: TRACE_TOPIC.slac,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: { type: 'object', required: ['at', 'direction', 'hex'], properties: { at, direction, hex } },
    description: 'Trace: one SLAC / HomePlug AV management frame (Ethernet, destination MAC first).',
  },
  {
    topic: TRACE_TOPIC.can,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: {
      type: 'object',
      required: ['at', 'direction', 'id', 'data'],
      properties: { at, direction, iface: { type: 'string' }, id: { type: 'integer', minimum: 0, maximum: 0x1fffffff }, data: { type: 'string', pattern: '^([0-9a-f]{2}){0,64}$' } },
    },
    description: 'Trace: one CAN frame (arbitration id, data as hex).',
  },
  {
    topic: TRACE_TOPIC.enabled,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: true,
    schema: {
      type: 'object',
      required: ['v2g', 'slac', 'mqtt', 'can'],
      properties: { v2g: { type: 'boolean' }, slac: { type: 'boolean' }, mqtt: { type: 'boolean' }, can: { type: 'boolean' } },
    },
    description: 'Which traces the logging plugin records now (switchable live in plugins.logging.config.traces).',
  },
];
