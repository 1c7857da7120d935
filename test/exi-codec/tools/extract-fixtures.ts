/**
 * Derives test/exi-codec/fixtures/capture-payloads.json from ../shared/captures: every distinct
 * EXI payload of the V2GTP traffic, with the schema it belongs to (the first request/response
 * pair of each TCP session is the app handshake, the rest DIN 70121).
 *
 *   node test/exi-codec/dist/tools/extract-fixtures.js [CAPTURES_DIR]
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capturePayloads, CAPTURES_DIR, FIXTURES_DIR } from '../helpers.js';

const dir = process.argv[2] ?? CAPTURES_DIR;
const seen = new Set<string>();
const out: { capture: string; schema: string; hex: string }[] = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith('.pcapng')).sort()) {
  for (const p of capturePayloads(join(dir, f))) {
    const key = `${p.schema}:${p.hex}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ capture: f, schema: p.schema, hex: p.hex });
  }
}
writeFileSync(join(FIXTURES_DIR, 'capture-payloads.json'), `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${out.length} payloads`);
