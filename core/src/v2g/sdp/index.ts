export * from './messages.js';
export * from './server.js';
export * from './client.js';
