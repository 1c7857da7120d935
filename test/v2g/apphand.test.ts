import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '@opensecc/exi-codec';
import { APP_PROTOCOLS, AppHandshakeError, appProtocolRequest, appProtocolsOf, negotiate } from '@opensecc/core/v2g/index';

const iso2 = { ProtocolNamespace: APP_PROTOCOLS['iso15118-2'].namespace, VersionNumberMajor: 2, VersionNumberMinor: 0, SchemaID: 10, Priority: 1 };
const din = { ProtocolNamespace: APP_PROTOCOLS.din70121.namespace, VersionNumberMajor: 2, VersionNumberMinor: 0, SchemaID: 20, Priority: 2 };

test('negotiation: the EV priority wins by default, the SECC order when configured', () => {
  const both = { protocols: ['din70121', 'iso15118-2'] as const, prefer: 'ev' as const };
  const byEv = negotiate([iso2, din], { ...both, protocols: [...both.protocols] });
  assert.equal(byEv.ok && byEv.protocol, 'iso15118-2');
  assert.deepEqual(byEv.response, { supportedAppProtocolRes: { ResponseCode: 'OK_SuccessfulNegotiation', SchemaID: 10 } });
  const bySecc = negotiate([iso2, din], { protocols: ['din70121', 'iso15118-2'], prefer: 'secc' });
  assert.equal(bySecc.ok && bySecc.protocol, 'din70121');
  assert.equal(bySecc.ok && bySecc.response.supportedAppProtocolRes.SchemaID, 20);
});

test('negotiation: only protocols the SECC offers; minor deviation; no match fails', () => {
  const dinOnly = negotiate([iso2, din], { protocols: ['din70121'], prefer: 'ev' });
  assert.equal(dinOnly.ok && dinOnly.protocol, 'din70121');
  const minor = negotiate([{ ...din, VersionNumberMinor: 1 }], { protocols: ['din70121'], prefer: 'ev' });
  assert.equal(minor.response.supportedAppProtocolRes.ResponseCode, 'OK_SuccessfulNegotiationWithMinorDeviation');
  const otherMajor = negotiate([{ ...din, VersionNumberMajor: 3 }], { protocols: ['din70121'], prefer: 'ev' });
  assert.equal(otherMajor.ok, false);
  assert.deepEqual(otherMajor.response, { supportedAppProtocolRes: { ResponseCode: 'Failed_NoNegotiation' } });
  assert.match(otherMajor.ok ? '' : otherMajor.reason, /urn:din:70121:2012:MsgDef 3\.0/);
});

test('negotiation documents encode and decode with the apphand schema', () => {
  const request = appProtocolRequest(['din70121', 'iso15118-2']);
  const entries = appProtocolsOf(decode('apphand', encode('apphand', request)));
  assert.equal(entries.length, 2);
  const result = negotiate(entries, { protocols: ['din70121'], prefer: 'ev' });
  assert.deepEqual(decode('apphand', encode('apphand', result.response)), result.response);
  assert.throws(() => appProtocolsOf({ supportedAppProtocolRes: {} }), AppHandshakeError);
});
