/** The topics of the value-added services plugin (registered from its manifest). */
import { defineTopic, type JSONSchema, type TopicDefinition } from '@opensecc/plugin-api';
import { serviceDefinitionSchema, serviceListSchema } from './definitions.js';

export const VAS_TOPICS = {
  /** Publishable: the operator's list, replacing the config's while set (null: back to the config). */
  services: 'ci/hlc/evse/value_added_services',
  /** What the SECC offers now, from every source. */
  offered: 'ci/hlc/evse/offered_services',
  /** What the EV selected in this session. */
  selected: 'ci/hlc/ev/selected_services',
  /** A rejected definition (semantic check, plugin registration). */
  error: 'ci/vas/error',
} as const;

/** Sandboxed (and any other) plugins register services by publishing a list on `vas/services/<their name>`. */
export const REGISTRATION_PREFIX = 'vas/services/';
export const REGISTRATION_PATTERN = `${REGISTRATION_PREFIX}+`;

const parameterValues: JSONSchema = (serviceDefinitionSchema as { properties: { parameterSets: { items: { properties: { parameters: JSONSchema } } } } }).properties.parameterSets.items.properties.parameters;

const offeredSchema: JSONSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['id', 'category', 'free', 'parameterSets', 'source'],
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      category: { type: 'string' },
      scope: { type: 'string' },
      free: { type: 'boolean' },
      parameterSets: { type: 'array', items: { type: 'object', required: ['id', 'parameters'], properties: { id: { type: 'integer' }, parameters: parameterValues } } },
      source: { type: 'string', description: "'config', 'mqtt', 'plugin:<name>' (plugin API) or 'bus:<plugin>' (vas/services/<plugin>)" },
    },
  },
};

const selectedSchema: JSONSchema = {
  type: 'object',
  required: ['sessionId', 'services'],
  additionalProperties: false,
  properties: {
    sessionId: { type: 'string' },
    services: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'category'],
        additionalProperties: false,
        properties: {
          id: { type: 'integer' },
          name: { type: 'string' },
          category: { type: 'string' },
          parameterSetId: { type: 'integer' },
          parameters: parameterValues,
          source: { type: 'string' },
        },
      },
    },
  },
};

export const VAS_TOPIC_DEFINITIONS: readonly TopicDefinition[] = [
  defineTopic({
    topic: VAS_TOPICS.services,
    direction: 'publishable',
    type: 'Array',
    retained: true,
    schema: { anyOf: [serviceListSchema, { type: 'null' }] },
    description:
      'ISO 15118-2 value-added services the SECC offers besides charging (ServiceDiscoveryRes ServiceList, ServiceDetailRes ServiceParameterList), replacing plugins.vas.config.services while set; null goes back to the config. Each: {id, name?, category?, scope?, free?, parameterSets?: [{id, parameters: [{name, boolValue|byteValue|shortValue|intValue|physicalValue|stringValue}]}]}; ServiceIDs 2 (certificate) and 3 (internet access) get the standard parameter sets when none are given. Takes effect at the next ServiceDiscovery. A list with a ServiceID or ParameterSetID twice is rejected on ci/vas/error and the previous list stays.',
  }),
  defineTopic({
    topic: VAS_TOPICS.offered,
    direction: 'subscribeable-only',
    type: 'Array',
    retained: true,
    schema: offeredSchema,
    description: 'The value-added services the SECC offers now, defaults filled in, from every source: the operator list (config or ci/hlc/evse/value_added_services), then services registered by plugins. The ServiceList holds at most 8.',
  }),
  defineTopic({
    topic: VAS_TOPICS.selected,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: true,
    schema: selectedSchema,
    description:
      'The value-added services the EV selected in PaymentServiceSelectionReq (SelectedServiceList without the charge service), with the chosen parameter set and its parameters: e.g. open the internet gateway for Protocol/Port. Reset to an empty list at each ServiceDiscovery; sessionId tells sessions apart.',
  }),
  defineTopic({
    topic: VAS_TOPICS.error,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: { type: 'object', required: ['source', 'reason'], properties: { source: { type: 'string' }, reason: { type: 'string' } } },
    description: 'Event: a value-added service definition was rejected (source: config, mqtt, a plugin) and why; the previous services stay offered.',
  }),
];
