/**
 * Writes docs/can-api.md from the message database: `node plugins/can/dist/gen-docs.js`
 * (`--check` exits 1 when the file is out of date instead of writing it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE } from './config.js';
import { loadDbc } from './dbc/parse.js';
import { renderCanApiDoc, repoRelative } from './docs.js';
import { canApiFrom } from './interface/api.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DOC_FILE = resolve(REPO_ROOT, 'docs/can-api.md');
export const GENERATOR = 'plugins/can/src/gen-docs.ts';

export function generateCanApiDoc(database = DEFAULT_DATABASE): string {
  return renderCanApiDoc(canApiFrom(loadDbc(database)), { databasePath: repoRelative(database, REPO_ROOT), generator: GENERATOR });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const out = args.includes('--out') ? resolve(args[args.indexOf('--out') + 1]!) : DOC_FILE;
  const text = generateCanApiDoc();
  if (args.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      // missing counts as out of date
    }
    if (current !== text) {
      process.stderr.write(`${out} is out of date: run node plugins/can/dist/gen-docs.js\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(out, text);
    process.stdout.write(`wrote ${out}\n`);
  }
}
