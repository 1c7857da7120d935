import type { TopicDefinition } from '@opensecc/plugin-api';

/** The CAN plugin's own bus (and MQTT) topics: link status, frame counters and errors. */
export const CAN_TOPIC = {
  status: 'ci/can/status',
  stats: 'ci/can/stats',
  error: 'ci/can/error',
} as const;

export type ControllerState = 'waiting' | 'ok' | 'timeout';

export interface CanStatus {
  readonly transport: string;
  readonly bitrate: number;
  /** waiting: not every controller message seen yet; ok: all arrive in time; timeout: one is missing. */
  readonly controller: ControllerState;
  /** Controller messages missing longer than their timeout. */
  readonly missing: readonly string[];
  /** The plugin holds ci/hlc/evse/error_shutdown because the controller went silent during a session. */
  readonly errorShutdown: boolean;
}

export const BAD_FRAME_REASONS = ['wrong_length', 'unknown_id', 'wrong_direction', 'out_of_range'] as const;
export type BadFrameReason = (typeof BAD_FRAME_REASONS)[number];

export interface CanStats {
  readonly rxFrames: number;
  readonly txFrames: number;
  readonly txErrors: number;
  /** Frames outside the stack's id range (other traffic on the bus), ignored. */
  readonly foreignFrames: number;
  /** Signal values received in a session state they are not valid in, not applied. */
  readonly notValidInState: number;
  readonly badFrames: Readonly<Record<BadFrameReason, number>>;
}

const count = { type: 'integer', minimum: 0 };

export const CAN_TOPICS: readonly TopicDefinition[] = [
  {
    topic: CAN_TOPIC.status,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: true,
    schema: {
      type: 'object',
      required: ['transport', 'bitrate', 'controller', 'missing', 'errorShutdown'],
      additionalProperties: false,
      properties: {
        transport: { type: 'string' },
        bitrate: { type: 'integer', minimum: 1 },
        controller: { enum: ['waiting', 'ok', 'timeout'] },
        missing: { type: 'array', items: { type: 'string' } },
        errorShutdown: { type: 'boolean' },
      },
    },
    description:
      'The CAN link to the EVSE controller: transport (socketcan:can0, virtual:can0), bitrate, whether the controller messages arrive in time (waiting, ok, timeout), which are missing, and whether the plugin holds an error shutdown because of them.',
  },
  {
    topic: CAN_TOPIC.stats,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: true,
    schema: {
      type: 'object',
      required: ['rxFrames', 'txFrames', 'txErrors', 'foreignFrames', 'notValidInState', 'badFrames'],
      additionalProperties: false,
      properties: {
        rxFrames: count,
        txFrames: count,
        txErrors: count,
        foreignFrames: count,
        notValidInState: count,
        badFrames: {
          type: 'object',
          required: ['wrong_length', 'unknown_id', 'wrong_direction', 'out_of_range'],
          additionalProperties: false,
          properties: { wrong_length: count, unknown_id: count, wrong_direction: count, out_of_range: count },
        },
      },
    },
    description:
      'CAN frame counters: received, sent, send errors, foreign frames (outside the stack\'s id range), signal values ignored because they are not valid in the current session state, and bad frames by reason (wrong_length, unknown_id, wrong_direction, out_of_range); bad frames are logged and ignored.',
  },
  {
    topic: CAN_TOPIC.error,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: {
      type: 'object',
      required: ['code', 'message', 'since'],
      additionalProperties: false,
      properties: { code: { type: 'string' }, message: { type: 'string' }, since: { type: 'string' } },
    },
    description: 'One CAN interface error as it is raised ({code, message, since}), e.g. controller_timeout when a controller message is missing longer than its timeout.',
  },
];
