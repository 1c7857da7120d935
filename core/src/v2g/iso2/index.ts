/** ISO 15118-2 (AC and DC, EIM): SECC state machine, EV side, schedules, topics, config. */
export * from './config.js';
export * from './evse-data.js';
export * from './messages.js';
export * from './schedule.js';
export * from './secc.js';
export * from './topics.js';
export * from './evcc.js';
export * from './sim-ac-evse.js';
export * from './services.js';
export * from './pnc.js';
export * from './pnc-flow.js';
export * from './evcc-pnc.js';
