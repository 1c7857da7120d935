/**
 * Builds test/logging/fixtures/din-session.ndjson: the V2G trace records the SECC would have
 * written for a real DIN 70121 session (pyPLC charger with a Hyundai Ioniq, ../shared/captures),
 * each message wrapped in its V2GTP header and decoded with @opensecc/exi-codec.
 *
 *   npx tsc -b test/logging && node test/logging/dist/tools/make-fixture.js
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode } from '@opensecc/exi-codec';

export const CAPTURE = fileURLToPath(new URL('../../../../../shared/captures/2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng.decoded.txt', import.meta.url));
const OUT = fileURLToPath(new URL('../../fixtures/din-session.ndjson', import.meta.url));
const SESSION = '0102030405060708';

function v2gtp(exiHex: string): string {
  const header = Buffer.alloc(8);
  header.writeUInt8(0x01, 0);
  header.writeUInt8(0xfe, 1);
  header.writeUInt16BE(0x8001, 2);
  header.writeUInt32BE(exiHex.length / 2, 4);
  return header.toString('hex') + exiHex;
}

function messageName(document: Record<string, unknown>): string {
  const root = Object.keys(document)[0]!;
  if (root !== 'V2G_Message') return root;
  const body = (document[root] as { Body: Record<string, unknown> }).Body;
  return Object.keys(body)[0]!;
}

/** The fixture's lines from the text of a pyPLC *.decoded.txt capture. */
export function fixtureLines(captureText: string): string[] {
  const records: string[] = [];
  let inDin = false;
  let previousHex = '';
  for (const match of captureText.matchAll(/^Packet #\d+ \[([\d-]+ [\d:.]+)\] ([0-9a-f]+) means:/gm)) {
    const [, stamp, exi] = match as unknown as [string, string, string];
    const bytes = Buffer.from(exi, 'hex');
    let protocol = inDin ? 'din' : 'apphand';
    let decoded: Record<string, unknown>;
    try {
      decoded = decode(protocol, bytes);
    } catch {
      protocol = 'din';
      decoded = decode(protocol, bytes);
    }
    const name = messageName(decoded);
    if (name === 'SessionSetupReq') inDin = true;
    if (exi === previousHex) continue; // a TCP retransmission in the capture, not a second message
    previousHex = exi;
    const at = Date.parse(stamp.replace(' ', 'T') + 'Z');
    const direction = /Req$/.test(name) ? 'rx' : 'tx';
    records.push(JSON.stringify({ at, session: SESSION, direction, protocol, payloadType: 0x8001, hex: v2gtp(exi), decoded }));
  }
  return records;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const records = fixtureLines(readFileSync(CAPTURE, 'utf8'));
  writeFileSync(OUT, records.join('\n') + '\n');
  console.log(`${OUT}: ${records.length} records`);
}
