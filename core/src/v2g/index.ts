/**
 * V2G high-level communication (DIN 70121; ISO 15118-2 plugs in through the app handshake):
 * transport, SDP, app handshake, the SECC state machines and their bus topics.
 */
export * from './transport/index.js';
export * from './sdp/index.js';
export * from './apphand/index.js';
export * from './din/secc.js';
export * from './din/messages.js';
export * from './din/evcc.js';
export * from './charging-port.js';
export * from './config.js';
export * from './connection-session.js';
export * from './evse-data.js';
export * from './physical.js';
export * from './service.js';
export * from './topics.js';
