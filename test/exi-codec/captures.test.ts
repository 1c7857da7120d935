/**
 * Real traffic: every EXI payload of the captured V2GTP sessions (real cars, real chargers)
 * decodes and re-encodes to the identical bytes; field values agree with pyPLC's decoded text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, fromHex, toHex, EXI_PADDING } from '@opensecc/exi-codec';
import { CAPTURES_DIR, capturePayloads, decodedTxt, fixturePayloads, skipUnless } from './helpers.js';

test('CONTRACTS.md example: DIN SessionSetupReq', () => {
  const hex = '809a02000000000000000011d01a121dc983cd6000';
  const doc = { V2G_Message: { Header: { SessionID: '0000000000000000' }, Body: { SessionSetupReq: { EVCCID: '84877260f358' } } } };
  assert.deepEqual(decode('din', fromHex(hex)), doc);
  assert.equal(toHex(encode('din', doc)), hex);
});

test('Ioniq CurrentDemandReq decodes to its field values', () => {
  const doc = decode('din', fromHex('809a02004080c1014181c210d100000ba0406014010285010004061a01e04070c84c0400c081e00604000040a1503c00'));
  const req = (doc as any).V2G_Message.Body.CurrentDemandReq;
  assert.deepEqual(req.DC_EVStatus, { EVReady: true, EVCabinConditioning: false, EVRESSConditioning: false, EVErrorCode: 'NO_ERROR', EVRESSSOC: 93 });
  assert.deepEqual(req.EVTargetCurrent, { Multiplier: -1, Unit: 'A', Value: 10 });
  assert.deepEqual(req.EVTargetVoltage, { Multiplier: -1, Unit: 'V', Value: 3880 });
  assert.equal(req.BulkChargingComplete, true);
});

test('app handshake: supportedAppProtocolReq of the Ioniq', () => {
  const doc = decode('apphand', fromHex('8000dbab9371d3234b71d1b981899189d191818991d26b9b3a232b30020000040040'));
  assert.deepEqual(doc, {
    supportedAppProtocolReq: { AppProtocol: [{ ProtocolNamespace: 'urn:din:70121:2012:MsgDef', VersionNumberMajor: 2, VersionNumberMinor: 0, SchemaID: 1, Priority: 1 }] },
  });
});

test('OpenV2Gx README examples (DIN PreChargeReq, CurrentDemandRes 380 V / 20 A) round-trip', () => {
  const pre = '809a001150400000c80006400000';
  assert.deepEqual(decode('din', fromHex(pre)), {
    V2G_Message: {
      Header: { SessionID: '' },
      Body: { PreChargeReq: { DC_EVStatus: { EVReady: false, EVErrorCode: 'NO_ERROR', EVRESSSOC: 0 }, EVTargetVoltage: { Multiplier: 0, Value: 0 }, EVTargetCurrent: { Multiplier: 0, Value: 0 } } },
    },
  });
  assert.equal(toHex(encode('din', decode('din', fromHex(pre)))), pre);
  const res = '809a02004080c1014181c210e0004080000193f0080c82800030';
  const doc = decode('din', fromHex(res)) as any;
  assert.deepEqual(doc.V2G_Message.Body.CurrentDemandRes.EVSEPresentVoltage, { Multiplier: 0, Value: 380 });
  assert.deepEqual(doc.V2G_Message.Body.CurrentDemandRes.EVSEPresentCurrent, { Multiplier: 0, Value: 20 });
  assert.equal(toHex(encode('din', doc)), res);
});

test('committed capture fixtures round-trip bit-identically', () => {
  const fixtures = fixturePayloads();
  assert.ok(fixtures.length > 100);
  for (const f of fixtures) {
    const doc = decode(f.schema, fromHex(f.hex));
    assert.equal(toHex(encode(f.schema, doc)), f.hex, `${f.capture}: ${f.hex}`);
    // The JSON form alone (what the CLI prints) re-encodes to the same bytes, except for the
    // zero bytes some EVs append after a byte-aligned stream.
    const viaJson = toHex(encode(f.schema, JSON.parse(JSON.stringify(doc))));
    const padding = (doc as Record<symbol, number>)[EXI_PADDING] ?? 0;
    assert.equal(viaJson, f.hex.slice(0, f.hex.length - 2 * padding));
  }
});

test('a Model Y stream with an extra zero byte keeps it on re-encode', () => {
  const hex = '809a02004080c1014181c210b800';
  const doc = decode('din', fromHex(hex));
  assert.deepEqual(Object.keys((doc as any).V2G_Message.Body), ['ContractAuthenticationReq']);
  assert.equal(toHex(encode('din', doc)), hex);
});

const captures = existsSync(CAPTURES_DIR) ? readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.pcapng')).sort() : [];

test('every EXI payload of ../shared/captures round-trips', { skip: skipUnless(CAPTURES_DIR) }, () => {
  assert.ok(captures.length > 0);
  for (const file of captures) {
    const payloads = capturePayloads(join(CAPTURES_DIR, file));
    assert.ok(payloads.length > 10, `${file}: V2GTP payloads found`);
    for (const p of payloads) {
      const doc = decode(p.schema, fromHex(p.hex));
      assert.equal(toHex(encode(p.schema, doc)), p.hex, `${file} session ${p.session} message ${p.index}`);
    }
  }
});

/** Looks up a dotted pyPLC field name (e.g. `DC_EVStatus.EVRESSSOC`) in a decoded message. */
function lookup(node: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [node];
  if (typeof node !== 'object' || node === null) return [];
  if (Array.isArray(node)) return node.flatMap((n) => lookup(n, path));
  const out: unknown[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === path[0]) out.push(...lookup(v, path.slice(1)));
    out.push(...lookup(v, path)); // the field may sit deeper
  }
  return out;
}

test('decoded field values agree with the .decoded.txt files', { skip: skipUnless(CAPTURES_DIR) }, () => {
  const txts = existsSync(CAPTURES_DIR) ? readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.decoded.txt')) : [];
  assert.ok(txts.length > 0);
  let compared = 0;
  for (const file of txts) {
    for (const { hex, fields } of decodedTxt(join(CAPTURES_DIR, file))) {
      if (fields.error || fields.schema !== 'DIN' || !fields.msgName) continue;
      const doc = decode('din', fromHex(hex)) as any;
      const body = doc.V2G_Message.Body;
      assert.deepEqual(Object.keys(body), [fields.msgName], `${file}: ${hex}`);
      assert.equal(doc.V2G_Message.Header.SessionID, fields['header.SessionID']);
      for (const [key, text] of Object.entries(fields)) {
        if (key.includes('_isUsed') || key.startsWith('header.') || key.endsWith('.bytesLen')) continue;
        const found = lookup(body, key.split('.'));
        if (found.length !== 1) continue; // pyPLC-only helper fields, or absent optional ones
        const v = found[0];
        if (typeof v === 'number') assert.equal(String(v), text, `${file} ${hex} ${key}`);
        else if (typeof v === 'boolean') assert.equal(v ? '1' : '0', text, `${file} ${hex} ${key}`);
        else if (typeof v === 'string' && !/^-?\d+$/.test(text)) assert.equal(v, text, `${file} ${hex} ${key}`);
        else continue; // pyPLC prints enumerations as indexes
        compared++;
      }
    }
  }
  assert.ok(compared > 500, `compared ${compared} field values`);
});
