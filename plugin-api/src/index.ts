export * from './bus.js';
export * from './logger.js';
export * from './manifest.js';
export * from './plugin.js';
export * from './schema.js';
export * from './topics.js';
export * from './topic-match.js';
