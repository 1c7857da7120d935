export * from './header.js';
export * from './decoder.js';
export * from './connection.js';
export * from './server.js';
export * from './client.js';
export * from './tls.js';
