/**
 * ISO 15118-2 eMAID as an EXI fragment: the certificate provisioning service signs it in
 * CertificateInstallationRes/CertificateUpdateRes. eMAID is declared with two types (the string
 * eMAIDType and EMAIDType with an Id), so a fragment codes it with the relaxed element fragment
 * grammar of EXI 1.0 8.5.3, numbered over the 10 attribute and 243 element qnames of the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFragment, encodeFragment, fromHex, toHex, ExiError } from '@opensecc/exi-codec';

// Published vectors: EVerest cbexigen's element fragment grammar test, streams produced by
// EXIficient (through RISE-V2G's codec) for these Id and eMAID values.
const EXIFICIENT_VECTORS: readonly (readonly [string, string, string])[] = [
  ['i', 'UKSWI123456789A', '80ec0201b4c0045552d4d5d24c4c8ccd0d4d8dce0e507d3d00'],
  ['id', 'UKSWI123456789A', '80ec020234b240045552d4d5d24c4c8ccd0d4d8dce0e507d3d00'],
  ['id4', 'UKSWI123456789A', '80ec0202b4b21a40045552d4d5d24c4c8ccd0d4d8dce0e507d3d00'],
  ['id44', 'UKSWI123456789A', '80ec020334b21a1a40045552d4d5d24c4c8ccd0d4d8dce0e507d3d00'],
  ['id445', 'UKSWI123456789A', '80ec0203b4b21a1a1ac0045552d4d5d24c4c8ccd0d4d8dce0e507d3d00'],
  ['id4456', 'UKSWI123456789A', '80ec020434b21a1a1a9b40045552d4d5d24c4c8ccd0d4d8dce0e507d3d00'],
  ['id4', 'DE12345678901A', '80ec0202b4b21a400411114c4c8ccd0d4d8dce0e4c0c507d3d00'],
  ['id4', 'UKSWI123456789B', '80ec0202b4b21a40045552d4d5d24c4c8ccd0d4d8dce0e50bd3d00'],
  ['id1', 'AB123456789012Z', '80ec0202b4b218c00450508c4c8ccd0d4d8dce0e4c0c4c96bd3d00'],
  ['id4', 'FRA12345678901', '80ec0202b4b21a40041194904c4c8ccd0d4d8dce0e4c0c7d3d00'],
  ['id2', 'UK012345678901', '80ec0202b4b21940041552cc0c4c8ccd0d4d8dce0e4c0c7d3d00'],
  ['id3', 'DEPNXCONTRACT1', '80ec0202b4b219c004111154139610d3d395149050d50c7d3d00'],
];

test('eMAID fragment: encodes as EXIficient does and decodes back (12 published vectors)', () => {
  for (const [Id, CONTENT, hex] of EXIFICIENT_VECTORS) {
    const fragment = { eMAID: { Id, CONTENT } };
    assert.equal(toHex(encodeFragment('iso2', fragment)), hex, `Id=${Id} eMAID=${CONTENT}`);
    const decoded = decodeFragment('iso2', fromHex(hex));
    assert.deepEqual(decoded, fragment);
    assert.equal(toHex(encodeFragment('iso2', decoded)), hex);
  }
});

test('eMAID fragment: the event codes are the relaxed grammar\'s (SE 236, AT(Id) 4 and CH 256 in 9 bits, EE 244, ED 244)', () => {
  const bytes = encodeFragment('iso2', { eMAID: { Id: 'id4', CONTENT: 'DEABCC0000001X' } });
  assert.equal(bytes[1], 236, 'SE(eMAID) in the 8-bit fragment grammar');
  assert.equal((bytes[2]! << 1) | (bytes[3]! >>> 7), 4, 'AT({MsgDataTypes}Id) is the fifth attribute qname');
  assert.equal(toHex(bytes), '80ec0202b4b21a40041111505090d0cc0c0c0c0c0c0c563d3d00');
});

test('eMAID fragment without attributes is its content as a string, and round-trips', () => {
  const fragment = { eMAID: 'DEABCC0000001X' };
  const bytes = encodeFragment('iso2', fragment);
  assert.deepEqual(decodeFragment('iso2', bytes), fragment);
  assert.equal(toHex(encodeFragment('iso2', decodeFragment('iso2', bytes))), toHex(bytes));
  // Element without content: EE right after the start tag, decoded as {}.
  assert.deepEqual(decodeFragment('iso2', encodeFragment('iso2', { eMAID: {} })), { eMAID: {} });
  // In a fragment with other signed elements, order is kept.
  const four = {
    ContractSignatureCertChain: { Id: 'id1', Certificate: '3082' },
    ContractSignatureEncryptedPrivateKey: { Id: 'id2', CONTENT: 'ab'.repeat(48) },
    DHpublickey: { Id: 'id3', CONTENT: 'cd'.repeat(65) },
    eMAID: { Id: 'id4', CONTENT: 'DEABCC0000001X' },
  };
  for (const [k, v] of Object.entries(four)) {
    const one = encodeFragment('iso2', { [k]: v });
    assert.deepEqual(decodeFragment('iso2', one), { [k]: v });
  }
});

test('eMAID fragment errors are typed', () => {
  const isKind = (kind: string) => (e: unknown) => e instanceof ExiError && e.kind === kind && e.path.startsWith('eMAID');
  assert.throws(() => encodeFragment('iso2', { eMAID: { Id: 'x', CONTENT: 'DE1', Other: 1 } }), isKind('unexpected-element'));
  assert.throws(() => encodeFragment('iso2', { eMAID: { Id: 7, CONTENT: 'DE1' } }), isKind('invalid-value'));
  assert.throws(() => encodeFragment('iso2', { eMAID: 42 }), isKind('invalid-value'));
  // AT code 2 ({}Id of xmldsig), an attribute eMAID does not declare: bits 000000010 after SE.
  assert.throws(() => decodeFragment('iso2', fromHex('80ec0100')), isKind('unsupported'));
  // An element inside eMAID (SE(F_0) = code 11) is not supported.
  assert.throws(() => decodeFragment('iso2', fromHex('80ec0580')), isKind('unsupported'));
  // Code 257 (second level) and 300 (undefined).
  assert.throws(() => decodeFragment('iso2', fromHex('80ec8080')), isKind('unsupported'));
  assert.throws(() => decodeFragment('iso2', fromHex('80ec9600')), isKind('invalid-event-code'));
  // Truncated inside the content.
  assert.throws(() => decodeFragment('iso2', fromHex(EXIFICIENT_VECTORS[2]![2].slice(0, 24))), isKind('truncated'));
});
