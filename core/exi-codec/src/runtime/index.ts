export { ExiError, nest, type ExiErrorKind } from './errors.js';
export { BitReader } from './bit-reader.js';
export { BitWriter } from './bit-writer.js';
export { StringTable } from './string-table.js';
export * from './values.js';
