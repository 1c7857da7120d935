import type { TopicDefinition } from '@opensecc/plugin-api';
import { iec61851Topics } from '../iec61851/topics.js';
import { SLAC_TOPICS } from '../slac/topics.js';
import { traceTopics } from '../trace/topics.js';
import { HLC_TOPICS } from '../v2g/topics.js';
import { ISO2_TOPICS } from '../v2g/iso2/topics.js';

/**
 * Every topic the kernel's subsystems own, by owner (the kernel registers its own). The daemon registers exactly this list
 * and the CLI (`secc mqtt topics`, docs/mqtt-api.md) reads it, so the two cannot drift apart.
 */
export const SUBSYSTEM_TOPICS: ReadonlyArray<readonly [owner: string, topics: readonly TopicDefinition[]]> = [
  ['iec61851', iec61851Topics],
  ['slac', SLAC_TOPICS],
  ['v2g', [...HLC_TOPICS, ...ISO2_TOPICS]],
  ['trace', traceTopics],
];
