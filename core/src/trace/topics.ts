import type { TopicDefinition } from '@opensecc/plugin-api';

// The trace topics and records are part of the plugin API: plugins that talk to hardware (CAN)
// trace their frames with the same helpers as the kernel.
import { TRACE_TOPIC } from '@opensecc/plugin-api';
export { TRACE_TOPIC, type CanTraceRecord, type SlacTraceRecord, type TraceKind, type TraceSwitches, type V2gTraceRecord } from '@opensecc/plugin-api';

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
