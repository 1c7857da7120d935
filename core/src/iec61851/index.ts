export * from './charging-state.js';
export * from './config.js';
export * from './controller.js';
export * from './duty-cycle.js';
export * from './faults.js';
export * from './topics.js';
