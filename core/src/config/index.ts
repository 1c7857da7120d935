export * from './config-service.js';
export * from './errors.js';
export * from './kernel-schema.js';
export * from './types.js';
export { writeFileAtomic } from '../util/atomic-write.js';
