export * from './battery.js';
export * from './dc-power-supply.js';
export * from './ev-simulator.js';
export * from './link.js';
export * from './pnc-backend.js';
