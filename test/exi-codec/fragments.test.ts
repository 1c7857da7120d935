/**
 * EXI fragments, the bytes ISO 15118 signatures digest and sign: SignedInfo (xmldsig schema)
 * and body elements with an Id (the message schema).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, decodeFragment, encode, encodeFragment, fromHex, toHex, ExiError, loadAllSchemas } from '@opensecc/exi-codec';

// The ISO 15118-20 codecs load on demand.
await loadAllSchemas();

// From EVerest's cbexigen tests: SignedInfo with two references, encoded by encode_iso2_xmldsigFragment.
const SIGNED_INFO_HEX =
  '808112b43a3a381d1797bbbbbb973b999737b93397aa2917b1b0b737b734b1b0b616b2bc3497a1ab43a3a381d1797bbbbbb973b999737b93397991818189' +
  '7981a17bc36b63239b4b396b6b7b93291b2b1b239b096b9b4309a98992205696431025687474703a2f2f7777772e77332e6f72672f54522f63616e6f6e696' +
  '3616c2d6578692f486ad0e8e8e0745e5eeeeeee5cee665cdee4ce5e646060625e60685ef0dad8c8e6d2ce5adadee4ca46cac6c8e6c25ae6d0c26a626480e02' +
  '0406080a0c0e0815a590c8095a1d1d1c0e8bcbddddddcb9dcccb9bdc99cbd5148bd8d85b9bdb9a58d85b0b595e1a4bd21ab43a3a381d1797bbbbbb973b9997' +
  '37b933979918181897981a17bc36b63239b4b396b6b7b93291b2b1b239b096b9b4309a9899203808101820283038dc0';

const CANON = 'http://www.w3.org/TR/canonical-exi/';
const ECDSA = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512';
const reference = (uri: string) => ({
  URI: uri,
  Transforms: { Transform: [{ Algorithm: CANON }] },
  DigestMethod: { Algorithm: ECDSA },
  DigestValue: '01020304050607',
});
const SIGNED_INFO = {
  SignedInfo: { CanonicalizationMethod: { Algorithm: CANON }, SignatureMethod: { Algorithm: ECDSA }, Reference: [reference('id1'), reference('id2')] },
};

test('SignedInfo fragment: the cbexigen test vector decodes and re-encodes bit-identically', () => {
  const bytes = fromHex(SIGNED_INFO_HEX);
  assert.deepEqual(decodeFragment('xmldsig', bytes), SIGNED_INFO);
  assert.equal(toHex(encodeFragment('xmldsig', SIGNED_INFO)), SIGNED_INFO_HEX);
});

test('string-table hits are optional: shorter, and decode to the same document', () => {
  const withHits = encodeFragment('xmldsig', SIGNED_INFO, { stringTableHits: true });
  assert.ok(withHits.length < fromHex(SIGNED_INFO_HEX).length);
  assert.deepEqual(decodeFragment('xmldsig', withHits), SIGNED_INFO);
  const doc = { supportedAppProtocolReq: { AppProtocol: [1, 2].map((p) => ({ ProtocolNamespace: 'urn:din:70121:2012:MsgDef', VersionNumberMajor: 2, VersionNumberMinor: 0, SchemaID: p, Priority: p })) } };
  const hits = encode('apphand', doc, { stringTableHits: true });
  const literals = encode('apphand', doc);
  assert.ok(hits.length < literals.length);
  assert.deepEqual(decode('apphand', hits), doc);
  assert.deepEqual(decode('apphand', literals), doc);
});

test('ISO 15118-2 signed body elements round-trip as fragments', () => {
  const cases: Record<string, unknown>[] = [
    { AuthorizationReq: { Id: 'ID1', GenChallenge: '000102030405060708090a0b0c0d0e0f' } },
    { MeteringReceiptReq: { Id: 'id2', SessionID: '0102030405060708', SAScheduleTupleID: 1, MeterInfo: { MeterID: 'meter-1', MeterReading: 123456 } } },
    { ContractSignatureEncryptedPrivateKey: { Id: 'id3', CONTENT: 'ab'.repeat(48) } },
  ];
  for (const frag of cases) {
    const bytes = encodeFragment('iso2', frag);
    assert.deepEqual(decodeFragment('iso2', bytes), frag);
    assert.equal(toHex(encodeFragment('iso2', decodeFragment('iso2', bytes))), toHex(bytes));
  }
  // Two elements in one fragment keep their order.
  const two = { SignedInfo: SIGNED_INFO.SignedInfo, AuthorizationReq: { Id: 'ID1' } };
  assert.deepEqual(Object.keys(decodeFragment('iso2', encodeFragment('iso2', two))), ['SignedInfo', 'AuthorizationReq']);
});

test('ISO 15118-20 fragment grammar numbers elements as cbexigen does (OEMProvisioningCertificateChain = 128, ED = 282 in 9 bits)', () => {
  // An empty fragment is the header and ED: 282 = 100011010.
  assert.equal(toHex(encodeFragment('iso20', {})), '808d00');
  const chain = { OEMProvisioningCertificateChain: { Id: 'oem1', Certificate: '3082' } };
  const bytes = encodeFragment('iso20', chain);
  assert.equal(((bytes[1]! << 1) | (bytes[2]! >>> 7)) & 0x1ff, 128);
  assert.deepEqual(decodeFragment('iso20', bytes), chain);
});

test('ISO 15118-20 signed messages round-trip as fragments', () => {
  const frag = { AuthorizationReq: { Header: { SessionID: '0102030405060708', TimeStamp: 1700000000 }, SelectedAuthorizationService: 'EIM', EIM_AReqAuthorizationMode: {} } };
  const bytes = encodeFragment('iso20', frag);
  assert.deepEqual(decodeFragment('iso20', bytes), frag);
});

test('fragment errors are typed', () => {
  assert.throws(() => encodeFragment('iso2', { NoSuchElement: {} }), (e: unknown) => e instanceof ExiError && e.kind === 'unexpected-element');
  assert.throws(() => decodeFragment('xmldsig', fromHex(SIGNED_INFO_HEX).subarray(0, 40)), (e: unknown) => e instanceof ExiError && e.kind === 'truncated' && e.path.startsWith('SignedInfo/'));
});
