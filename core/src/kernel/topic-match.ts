// The matcher lives in plugin-api so that plugins (the MQTT API, the CAN interface) use the same one.
export { patternCovers, topicMatches } from '@opensecc/plugin-api';
