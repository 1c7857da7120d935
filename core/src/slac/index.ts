/**
 * SLAC (ISO 15118-3) over HomePlug Green PHY: message codec, EVSE and EV state machines, transports.
 */
export * from './codec.js';
export * from './constants.js';
export * from './control-pilot.js';
export * from './ev.js';
export * from './evse.js';
export * from './iec61851-adapter.js';
export * from './keys.js';
export * from './link.js';
export * from './mac.js';
export * from './memory-link.js';
export * from './messages.js';
export { openRawLink } from './raw-link.js';
export * from './topics.js';
