import { fileURLToPath } from 'node:url';

/** The installation's root (where config/ and package.json live), from this file's location. */
export const INSTALL_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULTS_FILE = fileURLToPath(new URL('../../../config/default.json', import.meta.url));
