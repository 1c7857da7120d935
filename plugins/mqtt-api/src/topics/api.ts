import { defineTopic, type TopicDefinition } from '@opensecc/plugin-api';

export const MQTT_ERROR_TOPIC = 'ci/mqtt/error';
export const ONLINE_TOPIC = 'ci/mqtt/online';

/** What the API reports on `ci/mqtt/error` when it refuses a publish. */
export interface MqttApiError {
  readonly topic: string;
  readonly reason: string;
  /** The start of the refused payload (UTF-8 text, or `hex:…` when it was not UTF-8). */
  readonly payload: string;
}

/** Topics the MQTT API itself owns. */
export const API_TOPICS: readonly TopicDefinition[] = [
  defineTopic({
    topic: ONLINE_TOPIC,
    direction: 'subscribeable-only',
    type: 'Boolean',
    retained: true,
    schema: { type: 'boolean' },
    description:
      '`true` while the stack is connected to the broker; the broker sets it to `false` (MQTT last will) when the stack goes away without saying goodbye, and the stack sets it to `false` when it stops.',
  }),
  defineTopic({
    topic: MQTT_ERROR_TOPIC,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: {
      type: 'object',
      required: ['topic', 'reason', 'payload'],
      properties: {
        topic: { type: 'string' },
        reason: { type: 'string' },
        payload: { type: 'string' },
      },
      additionalProperties: false,
    },
    description:
      'A publish the stack refused (payload fails the topic\'s schema, topic is subscribeable-only, or unknown topic under `ci/`): `{"topic", "reason", "payload"}` with the start of the payload. The refused value changed nothing.',
  }),
];
