/**
 * Bus topics of the SLAC module (also exposed on MQTT through the topic registry).
 */
import { defineTopic, type TopicDefinition } from '@opensecc/plugin-api';

export const SLAC_STATE_TOPIC = 'ci/slac/state';
export const SLAC_MATCH_TOPIC = 'ci/slac/match';

export const SLAC_STATES = ['idle', 'waiting_for_parm', 'sounding', 'matching', 'matched', 'failed'] as const;
export type SlacEvseState = (typeof SLAC_STATES)[number];

/** The payload of ci/slac/match. */
export interface SlacMatchReport {
  readonly result: 'matched' | 'failed';
  /** ISO 8601 time of the result. */
  readonly timestamp: string;
  readonly ev_mac: string | null;
  readonly evse_mac: string;
  readonly run_id: string | null;
  /** The NID of the logical network (never the NMK). */
  readonly nid: string | null;
  readonly attenuation: {
    readonly num_sounds: number;
    readonly num_groups: number;
    /** Mean over the groups of the averaged attenuation, in dB. */
    readonly average_db: number | null;
    readonly profile: readonly number[];
  } | null;
  /** Number of matching attempts in this plug-in session, this one included. */
  readonly attempts: number;
  /** Why it failed (absent when matched). */
  readonly reason?: string;
}

export const slacStateTopic: TopicDefinition = defineTopic({
  topic: SLAC_STATE_TOPIC,
  direction: 'subscribeable-only',
  type: 'String',
  retained: true,
  schema: { type: 'string', enum: [...SLAC_STATES] },
  description:
    'State of the EVSE side of SLAC (ISO 15118-3): idle (no vehicle or not started), waiting_for_parm (waiting for CM_SLAC_PARM.REQ), ' +
    'sounding (attenuation measurement), matching (waiting for CM_SLAC_MATCH.REQ), matched, failed.',
});

export const slacMatchTopic: TopicDefinition = defineTopic({
  topic: SLAC_MATCH_TOPIC,
  direction: 'subscribeable-only',
  type: 'Object',
  retained: true,
  schema: {
    type: 'object',
    required: ['result', 'timestamp', 'ev_mac', 'evse_mac', 'run_id', 'nid', 'attenuation', 'attempts'],
    additionalProperties: false,
    properties: {
      result: { type: 'string', enum: ['matched', 'failed'] },
      timestamp: { type: 'string' },
      ev_mac: { type: ['string', 'null'] },
      evse_mac: { type: 'string' },
      run_id: { type: ['string', 'null'] },
      nid: { type: ['string', 'null'] },
      attenuation: {
        type: ['object', 'null'],
        required: ['num_sounds', 'num_groups', 'average_db', 'profile'],
        additionalProperties: false,
        properties: {
          num_sounds: { type: 'integer', minimum: 0 },
          num_groups: { type: 'integer', minimum: 0, maximum: 58 },
          average_db: { type: ['number', 'null'] },
          profile: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 }, maxItems: 58 },
        },
      },
      attempts: { type: 'integer', minimum: 0 },
      reason: { type: 'string' },
    },
  },
  description:
    'Result of the last SLAC matching: matched or failed, the EV\'s MAC address, the RunID, the NID of the new logical network, ' +
    'the averaged attenuation profile the EVSE reported (dB per carrier group), the number of attempts and, on failure, the reason.',
});

export const SLAC_TOPICS: readonly TopicDefinition[] = [slacStateTopic, slacMatchTopic];
