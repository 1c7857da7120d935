/**
 * ISO 15118-2 Plug & Charge in the SECC, driven message by message (real EXI codec both ways, real
 * certificates from `generatePki`, the pnc plugin's provider, the simulated certificate backend on
 * the bus): Contract offered only when it can work, the positive path with the eMAID on
 * ci/hlc/ev/emaid, and one test per failure with the response code the standard requires.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCrl, DEFAULT_EMAID, loadKey, parseCertificate, readCertificate, readChain, revoke, signIso2, validateChain, type PkiLayout } from '@opensecc/v2g-pki';
import { Iso2EvPnc } from '@opensecc/core/v2g/iso2/index';
import { emaidForPcid } from '@opensecc/core/sim/pnc-backend';
import { pki, pncStack, seccSession, type Answer } from './helpers/stack.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const DAY = 86_400_000;

function contractChainOf(layout: PkiLayout, chain = readChain(layout.contractChain)) {
  const [leaf, ...subs] = chain;
  return { Certificate: hex(leaf!), SubCertificates: { Certificate: subs.map(hex) } };
}

const select = (option: string) => ({ SelectedPaymentOption: option, SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } });

async function toPaymentSelection(s: ReturnType<typeof seccSession>) {
  await s.send('SessionSetupReq', { EVCCID: '0465650064c3' });
  const discovery = await s.send('ServiceDiscoveryReq', { ServiceCategory: 'EVCharging' });
  const selection = await s.send('PaymentServiceSelectionReq', select('Contract'));
  return { discovery, selection };
}

/** SessionSetup … PaymentDetails with the given contract chain/eMAID. */
async function toPaymentDetails(s: ReturnType<typeof seccSession>, layout: PkiLayout, chain = contractChainOf(layout), emaid = layout.emaid): Promise<Answer> {
  await toPaymentSelection(s);
  return s.send('PaymentDetailsReq', { eMAID: emaid, ContractSignatureCertChain: chain });
}

test('Contract is offered only with a provider, over TLS, with a valid SECC certificate', async () => {
  const stack = await pncStack();
  try {
    const offered = async (provider: typeof stack.provider | undefined, secure: boolean) => {
      const s = seccSession(provider, stack.bus, { secure });
      await s.send('SessionSetupReq', { EVCCID: '0465650064c3' });
      const res = await s.send('ServiceDiscoveryReq', {});
      return (res.body.PaymentOptionList as { PaymentOption: string[] }).PaymentOption;
    };
    assert.deepEqual(await offered(stack.provider, true), ['Contract', 'ExternalPayment']);
    assert.deepEqual(await offered(undefined, true), ['ExternalPayment']);
    assert.deepEqual(await offered(stack.provider, false), ['ExternalPayment']);
  } finally {
    stack.stop();
  }
});

test('PnC positive path: PaymentDetails → GenChallenge, signed AuthorizationReq → OK, eMAID on ci/hlc/ev/emaid', async () => {
  const stack = await pncStack();
  try {
    const layout = stack.layout;
    const s = seccSession(stack.provider, stack.bus);
    const details = await toPaymentDetails(s, layout);
    assert.equal(details.code, 'OK');
    assert.match(String(details.body.GenChallenge), /^[0-9a-f]{32}$/);
    assert.equal(typeof details.body.EVSETimeStamp, 'number');
    assert.equal(stack.bus.get('ci/hlc/ev/emaid'), DEFAULT_EMAID);
    assert.equal(stack.bus.get('ci/hlc/session/payment_option'), 'Contract');
    const auth = await s.send('AuthorizationReq', { Id: 'id1', GenChallenge: details.body.GenChallenge }, { signWith: loadKey(layout.contract.key) });
    assert.equal(auth.code, 'OK');
    assert.equal(auth.body.EVSEProcessing, 'Finished');
    assert.equal(auth.close, false);
  } finally {
    stack.stop();
  }
});

test('PnC: the customer decides on the eMAID (ci/hlc/evse/authorization); repeated AuthorizationReqs need no new signature', async () => {
  const stack = await pncStack();
  try {
    const layout = stack.layout;
    const s = seccSession(stack.provider, stack.bus);
    const details = await toPaymentDetails(s, layout);
    s.evse.data = { ...s.evse.data, authorization: 'Ongoing' };
    const first = await s.send('AuthorizationReq', { Id: 'id1', GenChallenge: details.body.GenChallenge }, { signWith: loadKey(layout.contract.key) });
    assert.equal(first.body.EVSEProcessing, 'Ongoing');
    const again = await s.send('AuthorizationReq', {});
    assert.equal(again.body.EVSEProcessing, 'Ongoing');
    s.evse.data = { ...s.evse.data, authorization: 'Rejected' };
    const rejected = await s.send('AuthorizationReq', {});
    assert.equal(rejected.code, 'FAILED');
    assert.equal(rejected.close, true);
  } finally {
    stack.stop();
  }
});

test('PaymentDetails with an expired contract certificate → FAILED_CertificateExpired', async () => {
  const now = Date.now();
  const expired = await pki('expired-contract', { overrides: { contract: { notBefore: new Date(now - 20 * DAY), notAfter: new Date(now - DAY) } } });
  const stack = await pncStack({ secc: expired });
  try {
    const res = await toPaymentDetails(seccSession(stack.provider, stack.bus), expired);
    assert.equal(res.code, 'FAILED_CertificateExpired');
    assert.equal(res.close, true);
  } finally {
    stack.stop();
  }
});

test('PaymentDetails with a contract from an unknown root → FAILED_CertChainError', async () => {
  const other = await pki('other');
  const stack = await pncStack();
  try {
    const res = await toPaymentDetails(seccSession(stack.provider, stack.bus), other);
    assert.equal(res.code, 'FAILED_CertChainError');
    assert.match(String(res.stopReason), /unknown root/);
  } finally {
    stack.stop();
  }
});

test('PaymentDetails with a broken chain (sub-CA missing, or out of order) → FAILED_CertChainError', async () => {
  const stack = await pncStack();
  try {
    const [leaf, sub2, sub1] = readChain(stack.layout.contractChain);
    const missing = await toPaymentDetails(seccSession(stack.provider, stack.bus), stack.layout, contractChainOf(stack.layout, [leaf!, sub1!]));
    assert.equal(missing.code, 'FAILED_CertChainError');
    const swapped = await toPaymentDetails(seccSession(stack.provider, stack.bus), stack.layout, contractChainOf(stack.layout, [leaf!, sub1!, sub2!]));
    assert.equal(swapped.code, 'FAILED_CertChainError');
  } finally {
    stack.stop();
  }
});

test('PaymentDetails with an eMAID that is not the certificate’s, or malformed → FAILED_CertChainError', async () => {
  const stack = await pncStack();
  try {
    const other = await toPaymentDetails(seccSession(stack.provider, stack.bus), stack.layout, undefined, 'DEABCC0000002Y');
    assert.equal(other.code, 'FAILED_CertChainError');
    assert.match(String(other.stopReason), /not the one of the contract certificate/);
    const malformed = await toPaymentDetails(seccSession(stack.provider, stack.bus), stack.layout, undefined, 'not an emaid!');
    assert.equal(malformed.code, 'FAILED_CertChainError');
  } finally {
    stack.stop();
  }
});

test('AuthorizationReq with a tampered signature value → FAILED_SignatureError', async () => {
  const stack = await pncStack();
  try {
    const s = seccSession(stack.provider, stack.bus);
    const details = await toPaymentDetails(s, stack.layout);
    const res = await s.send('AuthorizationReq', { Id: 'id1', GenChallenge: details.body.GenChallenge }, {
      signWith: loadKey(stack.layout.contract.key),
      transform: (d) => {
        const value = (d.V2G_Message.Header.Signature as { SignatureValue: { CONTENT: string } }).SignatureValue;
        value.CONTENT = (value.CONTENT[0] === '0' ? '1' : '0') + value.CONTENT.slice(1);
      },
    });
    assert.equal(res.code, 'FAILED_SignatureError');
    assert.equal(res.close, true);
  } finally {
    stack.stop();
  }
});

test('AuthorizationReq whose signed body was changed after signing (old signature, current GenChallenge) → FAILED_SignatureError', async () => {
  const stack = await pncStack();
  try {
    const s = seccSession(stack.provider, stack.bus);
    const details = await toPaymentDetails(s, stack.layout);
    const res = await s.send('AuthorizationReq', { Id: 'id1', GenChallenge: randomBytes(16).toString('hex') }, {
      signWith: loadKey(stack.layout.contract.key),
      transform: (d) => {
        d.V2G_Message.Body.AuthorizationReq!.GenChallenge = details.body.GenChallenge;
      },
    });
    assert.equal(res.code, 'FAILED_SignatureError');
    assert.match(String(res.stopReason), /digest mismatch/);
  } finally {
    stack.stop();
  }
});

test('AuthorizationReq without signature, or signed by another key → FAILED_SignatureError', async () => {
  const stack = await pncStack();
  try {
    const unsigned = seccSession(stack.provider, stack.bus);
    const d1 = await toPaymentDetails(unsigned, stack.layout);
    assert.equal((await unsigned.send('AuthorizationReq', { Id: 'id1', GenChallenge: d1.body.GenChallenge })).code, 'FAILED_SignatureError');
    const wrongKey = seccSession(stack.provider, stack.bus);
    const d2 = await toPaymentDetails(wrongKey, stack.layout);
    const res = await wrongKey.send('AuthorizationReq', { Id: 'id1', GenChallenge: d2.body.GenChallenge }, { signWith: loadKey(stack.layout.oemProvisioning.key) });
    assert.equal(res.code, 'FAILED_SignatureError');
  } finally {
    stack.stop();
  }
});

test('AuthorizationReq with a wrong GenChallenge, or none → FAILED_ChallengeInvalid', async () => {
  const stack = await pncStack();
  try {
    const key = loadKey(stack.layout.contract.key);
    const wrong = seccSession(stack.provider, stack.bus);
    await toPaymentDetails(wrong, stack.layout);
    const res = await wrong.send('AuthorizationReq', { Id: 'id1', GenChallenge: randomBytes(16).toString('hex') }, { signWith: key });
    assert.equal(res.code, 'FAILED_ChallengeInvalid');
    assert.equal(res.close, true);
    const none = seccSession(stack.provider, stack.bus);
    await toPaymentDetails(none, stack.layout);
    assert.equal((await none.send('AuthorizationReq', { Id: 'id1' }, { signWith: key })).code, 'FAILED_ChallengeInvalid');
  } finally {
    stack.stop();
  }
});

test('a signed AuthorizationReq replayed in a later session → FAILED_ChallengeInvalid', async () => {
  const stack = await pncStack();
  try {
    const key = loadKey(stack.layout.contract.key);
    const first = seccSession(stack.provider, stack.bus);
    const d1 = await toPaymentDetails(first, stack.layout);
    let captured: unknown;
    const ok = await first.send('AuthorizationReq', { Id: 'id1', GenChallenge: d1.body.GenChallenge }, { signWith: key, transform: (d) => (captured = structuredClone(d.V2G_Message.Header.Signature)) });
    assert.equal(ok.code, 'OK');
    const second = seccSession(stack.provider, stack.bus);
    const d2 = await toPaymentDetails(second, stack.layout);
    assert.notEqual(d2.body.GenChallenge, d1.body.GenChallenge);
    const replayed = await second.send('AuthorizationReq', { Id: 'id1', GenChallenge: d1.body.GenChallenge }, { signature: captured });
    assert.equal(replayed.code, 'FAILED_ChallengeInvalid');
  } finally {
    stack.stop();
  }
});

test('SECC certificate expired: Contract not offered; an EV selecting it anyway → FAILED_PaymentSelectionInvalid', async () => {
  const now = Date.now();
  const expired = await pki('expired-secc', { overrides: { seccLeaf: { notBefore: new Date(now - 20 * DAY), notAfter: new Date(now - DAY) } } });
  const stack = await pncStack({ secc: expired });
  try {
    assert.equal(stack.provider.contractOffer(new Date()).ok, false);
    const s = seccSession(stack.provider, stack.bus);
    const { discovery, selection } = await toPaymentSelection(s);
    assert.deepEqual((discovery.body.PaymentOptionList as { PaymentOption: string[] }).PaymentOption, ['ExternalPayment']);
    assert.equal(selection.code, 'FAILED_PaymentSelectionInvalid');
  } finally {
    stack.stop();
  }
});

test('sequence: AuthorizationReq before PaymentDetails with Contract, PaymentDetails with ExternalPayment → FAILED_SequenceError', async () => {
  const stack = await pncStack();
  try {
    const s = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s);
    assert.equal((await s.send('AuthorizationReq', {})).code, 'FAILED_SequenceError');
    const eim = seccSession(stack.provider, stack.bus);
    await eim.send('SessionSetupReq', { EVCCID: '0465650064c3' });
    await eim.send('ServiceDiscoveryReq', {});
    await eim.send('PaymentServiceSelectionReq', select('ExternalPayment'));
    const res = await eim.send('PaymentDetailsReq', { eMAID: stack.layout.emaid, ContractSignatureCertChain: contractChainOf(stack.layout) });
    assert.equal(res.code, 'FAILED_SequenceError');
  } finally {
    stack.stop();
  }
});

/** An EV with only its OEM provisioning certificate. */
function newEv(layout: PkiLayout) {
  return new Iso2EvPnc({ oem: { certificate: readCertificate(layout.oemProvisioning.cert), key: loadKey(layout.oemProvisioning.key) }, roots: [readCertificate(layout.v2gRoot.cert), readCertificate(layout.moRoot.cert)] });
}

test('CertificateInstallation: the EV signature is verified, the backend answers on the bus, the EV decrypts its contract key and pays with it', async () => {
  const stack = await pncStack();
  try {
    const ev = newEv(stack.layout);
    const s = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s);
    const requests: unknown[] = [];
    stack.kernelBus.view({ kind: 'external', name: 'spy' }).subscribe('ci/pnc/certificate_installation/request', (m) => requests.push(m.value));
    const body = ev.installationRequest();
    const res = await s.send('CertificateInstallationReq', body, { signWith: ev.oemKey });
    assert.equal(res.code, 'OK', res.stopReason);
    assert.equal(requests.length, 1);
    const request = requests[0] as { sessionId: string; request: { CertificateInstallationReq: { OEMProvisioningCert: string } }; exi: string };
    assert.equal(request.sessionId, s.session.sessionId);
    assert.equal(request.request.CertificateInstallationReq.OEMProvisioningCert, body.OEMProvisioningCert);
    assert.match(request.exi, /^[0-9a-f]+$/);
    ev.acceptInstallation(res.body, res.header.Signature);
    assert.equal(ev.installed, true);
    assert.equal(ev.emaid, emaidForPcid(stack.layout.pcid, stack.layout.emaid));
    const details = await s.send('PaymentDetailsReq', ev.paymentDetails());
    assert.equal(details.code, 'OK');
    const auth = await s.send('AuthorizationReq', { Id: 'id1', GenChallenge: details.body.GenChallenge }, { signWith: ev.contractKey });
    assert.equal(auth.code, 'OK');
  } finally {
    stack.stop();
  }
});

test('CertificateInstallationReq with a tampered body (signed, then ListOfRootCertificateIDs changed) → FAILED_SignatureError, nothing goes to the backend', async () => {
  const stack = await pncStack();
  try {
    const ev = newEv(stack.layout);
    const s = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s);
    const requests: unknown[] = [];
    stack.kernelBus.view({ kind: 'external', name: 'spy' }).subscribe('ci/pnc/certificate_installation/request', (m) => requests.push(m.value));
    const res = await s.send('CertificateInstallationReq', ev.installationRequest(), {
      signWith: ev.oemKey,
      transform: (d) => {
        const list = d.V2G_Message.Body.CertificateInstallationReq!.ListOfRootCertificateIDs as { RootCertificateID: unknown[] };
        list.RootCertificateID = list.RootCertificateID.slice(0, 1);
      },
    });
    assert.equal(res.code, 'FAILED_SignatureError');
    assert.equal(requests.length, 0);
  } finally {
    stack.stop();
  }
});

test('CertificateInstallation: no backend answer within the timeout → FAILED and the session ends', async () => {
  const stack = await pncStack({ backend: 'silent', backendTimeoutMs: 300 });
  try {
    const ev = newEv(stack.layout);
    const s = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s);
    const res = await s.send('CertificateInstallationReq', ev.installationRequest(), { signWith: ev.oemKey });
    assert.equal(res.name, 'CertificateInstallationRes');
    assert.equal(res.code, 'FAILED');
    assert.equal(res.close, true);
    assert.match(String(res.stopReason), /no backend answer/);
    assert.equal(s.session.ended, true);
  } finally {
    stack.stop();
  }
});

test('CertificateInstallation: the backend answers Failed → FAILED', async () => {
  const stack = await pncStack({ backend: 'fail' });
  try {
    const ev = newEv(stack.layout);
    const s = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s);
    const res = await s.send('CertificateInstallationReq', ev.installationRequest(), { signWith: ev.oemKey });
    assert.equal(res.code, 'FAILED');
    assert.equal(res.close, true);
  } finally {
    stack.stop();
  }
});

test('CertificateUpdate: signed with the old contract key → the backend’s response; signed by another key → FAILED_SignatureError', async () => {
  const stack = await pncStack();
  try {
    const layout = stack.layout;
    const update = (key: ReturnType<typeof loadKey>) => {
      const s = seccSession(stack.provider, stack.bus);
      return toPaymentSelection(s).then(() =>
        s.send(
          'CertificateUpdateReq',
          {
            Id: 'id1',
            ContractSignatureCertChain: contractChainOf(layout),
            eMAID: layout.emaid,
            ListOfRootCertificateIDs: { RootCertificateID: [{ X509IssuerName: 'CN=x', X509SerialNumber: 1 }] },
          },
          { signWith: key },
        ),
      );
    };
    const ok = await update(loadKey(layout.contract.key));
    assert.equal(ok.code, 'OK', ok.stopReason);
    assert.ok(ok.header.Signature);
    const bad = await update(loadKey(layout.oemProvisioning.key));
    assert.equal(bad.code, 'FAILED_SignatureError');
  } finally {
    stack.stop();
  }
});

test('MeteringReceiptReq in PnC: signed by the contract key → OK; tampered MeterReading → FAILED_MeteringSignatureNotValid', async () => {
  const stack = await pncStack();
  try {
    const key = loadKey(stack.layout.contract.key);
    const charge = async () => {
      const s = seccSession(stack.provider, stack.bus, { config: { energyTransferModes: ['DC_extended'] } });
      const details = await toPaymentDetails(s, stack.layout);
      await s.send('AuthorizationReq', { Id: 'id1', GenChallenge: details.body.GenChallenge }, { signWith: key });
      const dc = { EVReady: true, EVErrorCode: 'NO_ERROR', EVRESSSOC: 50 };
      const pv = (v: number, u: string) => ({ Multiplier: 0, Unit: u, Value: v });
      await s.send('ChargeParameterDiscoveryReq', { RequestedEnergyTransferMode: 'DC_extended', DC_EVChargeParameter: { DC_EVStatus: dc, EVMaximumCurrentLimit: pv(100, 'A'), EVMaximumVoltageLimit: pv(400, 'V') } });
      await s.send('CableCheckReq', { DC_EVStatus: dc });
      await s.send('PreChargeReq', { DC_EVStatus: dc, EVTargetVoltage: pv(380, 'V'), EVTargetCurrent: pv(2, 'A') });
      const pd = await s.send('PowerDeliveryReq', { ChargeProgress: 'Start', SAScheduleTupleID: 1, DC_EVPowerDeliveryParameter: { DC_EVStatus: dc, ChargingComplete: false } });
      assert.equal(pd.code, 'OK', pd.stopReason);
      return s;
    };
    const receipt = (s: Awaited<ReturnType<typeof charge>>) => ({ Id: 'id2', SessionID: s.session.sessionId, SAScheduleTupleID: 1, MeterInfo: { MeterID: 'meter-1', MeterReading: 1234 } });
    const good = await charge();
    assert.equal((await good.send('MeteringReceiptReq', receipt(good), { signWith: key })).code, 'OK');
    const bad = await charge();
    const res = await bad.send('MeteringReceiptReq', receipt(bad), {
      signWith: key,
      transform: (d) => {
        (d.V2G_Message.Body.MeteringReceiptReq!.MeterInfo as { MeterReading: number }).MeterReading = 1;
      },
    });
    assert.equal(res.code, 'FAILED_MeteringSignatureNotValid');
    const unsigned = await charge();
    assert.equal((await unsigned.send('MeteringReceiptReq', receipt(unsigned))).code, 'FAILED_MeteringSignatureNotValid');
  } finally {
    stack.stop();
  }
});

test('two CertificateInstallations: two different contract certificates (new key each), both chaining to the MO root; the EV pays with its new one', async () => {
  const stack = await pncStack();
  try {
    const install = async () => {
      const ev = newEv(stack.layout);
      const s = seccSession(stack.provider, stack.bus);
      await toPaymentSelection(s);
      const res = await s.send('CertificateInstallationReq', ev.installationRequest(), { signWith: ev.oemKey });
      assert.equal(res.code, 'OK', res.stopReason);
      ev.acceptInstallation(res.body, res.header.Signature);
      return { ev, s };
    };
    const first = await install();
    const second = await install();
    const pkiContract = parseCertificate(readCertificate(stack.layout.contract.cert)).serialNumber;
    const serials = [first.ev.contractSerial, second.ev.contractSerial, pkiContract];
    assert.equal(new Set(serials).size, 3, `serials ${serials.join(', ')}`);
    assert.deepEqual(stack.backend.issued.map((i) => i.serialNumber), serials.slice(0, 2));
    for (const { ev } of [first, second]) {
      const sent = ev.paymentDetails().ContractSignatureCertChain as { Certificate: string; SubCertificates: { Certificate: string[] } };
      const [leaf, ...subs] = [sent.Certificate, ...sent.SubCertificates.Certificate].map((h) => new Uint8Array(Buffer.from(h, 'hex')));
      const chain = validateChain({ leaf: leaf!, subCertificates: subs, trustAnchors: [readCertificate(stack.layout.moRoot.cert)], expectedLeafRole: 'contract' });
      assert.equal(chain.ok, true, JSON.stringify(chain));
    }
    // The second EV pays with its new contract key; the first one's key does not fit the second certificate.
    const details = await second.s.send('PaymentDetailsReq', second.ev.paymentDetails());
    assert.equal(details.code, 'OK', details.stopReason);
    const wrong = await second.s.send('AuthorizationReq', { Id: 'id1', GenChallenge: details.body.GenChallenge }, { signWith: first.ev.contractKey });
    assert.equal(wrong.code, 'FAILED_SignatureError');
    const again = await first.s.send('PaymentDetailsReq', first.ev.paymentDetails());
    const auth = await first.s.send('AuthorizationReq', { Id: 'id1', GenChallenge: again.body.GenChallenge }, { signWith: first.ev.contractKey });
    assert.equal(auth.code, 'OK', auth.stopReason);
  } finally {
    stack.stop();
  }
});

test('CertificateUpdate from the EV side: a new contract (new key, same eMAID) decrypted with the old contract key; the EV pays with the new one, the old key no longer fits', async () => {
  const stack = await pncStack();
  try {
    const layout = stack.layout;
    const ev = new Iso2EvPnc({ contract: { chain: readChain(layout.contractChain), key: loadKey(layout.contract.key) }, roots: [readCertificate(layout.v2gRoot.cert), readCertificate(layout.moRoot.cert)], update: true });
    assert.equal(ev.needsUpdate, true);
    const oldSerial = ev.contractSerial;
    const oldKey = ev.contractKey;
    const s = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s);
    const res = await s.send('CertificateUpdateReq', ev.updateRequest(), { signWith: ev.contractKey });
    assert.equal(res.code, 'OK', res.stopReason);
    ev.acceptUpdate(res.body, res.header.Signature);
    assert.equal(ev.updated, true);
    assert.equal(ev.needsUpdate, false);
    assert.equal(ev.emaid, layout.emaid);
    assert.notEqual(ev.contractSerial, oldSerial);
    assert.equal(stack.backend.issued.at(-1)?.serialNumber, ev.contractSerial);
    const details = await s.send('PaymentDetailsReq', ev.paymentDetails());
    assert.equal(details.code, 'OK');
    const stale = await s.send('AuthorizationReq', { Id: 'id1', GenChallenge: details.body.GenChallenge }, { signWith: oldKey });
    assert.equal(stale.code, 'FAILED_SignatureError');
    const s2 = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s2);
    const d2 = await s2.send('PaymentDetailsReq', ev.paymentDetails());
    assert.equal((await s2.send('AuthorizationReq', { Id: 'id1', GenChallenge: d2.body.GenChallenge }, { signWith: ev.contractKey })).code, 'OK');
  } finally {
    stack.stop();
  }
});

test('a revoked contract certificate (listed in the MO sub-CA 2 CRL) → PaymentDetailsRes FAILED_CertificateRevoked; CertificateUpdate with it too', async () => {
  const revoked = await pki('revoked-contract');
  await revoke({ crlFile: revoked.crls.moSub2, issuerCert: revoked.moSub2.cert, issuerKey: revoked.moSub2.key, certificates: [revoked.contract.cert], reason: 'keyCompromise' });
  const stack = await pncStack({ secc: revoked });
  try {
    assert.equal(stack.material.crls.length, 4, JSON.stringify(stack.material.problems));
    const res = await toPaymentDetails(seccSession(stack.provider, stack.bus), revoked);
    assert.equal(res.code, 'FAILED_CertificateRevoked');
    assert.equal(res.close, true);
    assert.match(String(res.stopReason), /revoked since .*keyCompromise/);
    const s = seccSession(stack.provider, stack.bus);
    await toPaymentSelection(s);
    const update = await s.send('CertificateUpdateReq', { Id: 'id1', ContractSignatureCertChain: contractChainOf(revoked), eMAID: revoked.emaid, ListOfRootCertificateIDs: { RootCertificateID: [{ X509IssuerName: 'CN=x', X509SerialNumber: 1 }] } }, { signWith: loadKey(revoked.contract.key) });
    assert.equal(update.code, 'FAILED_CertificateRevoked');
    assert.equal(stack.backend.issued.length, 0);
  } finally {
    stack.stop();
  }
});

test('a revoked MO sub-CA (listed in the MO sub-CA 1 CRL) → FAILED_CertificateRevoked', async () => {
  const layout = await pki('revoked-sub-ca');
  await revoke({ crlFile: join(layout.dir, 'mo-sub-ca-1.crl.pem'), issuerCert: layout.moSub1.cert, issuerKey: layout.moSub1.key, certificates: [layout.moSub2.cert] });
  const stack = await pncStack({ secc: layout });
  try {
    const res = await toPaymentDetails(seccSession(stack.provider, stack.bus), layout);
    assert.equal(res.code, 'FAILED_CertificateRevoked');
    assert.match(String(res.stopReason), /sub-CA certificate 1 .*MOSubCA2/);
  } finally {
    stack.stop();
  }
});

test('a CRL that names the contract but is signed by the wrong key is ignored (logged), PaymentDetails OK', async () => {
  const layout = await pki('forged-crl');
  const other = await pki('other');
  const serial = parseCertificate(readCertificate(layout.contract.cert)).serialNumber;
  // Same issuer name and key identifier as the real MO sub-CA 2, signed with another key.
  const forged = await createCrl({ issuerCert: layout.moSub2.cert, issuerKey: other.moSub2.key, revoked: [{ serialNumber: serial }] });
  writeFileSync(join(layout.dir, 'forged.crl'), forged.der);
  const stack = await pncStack({ secc: layout });
  try {
    assert.ok(stack.material.crls.some((c) => c.file.endsWith('forged.crl') && c.signature === 'unverified'));
    const res = await toPaymentDetails(seccSession(stack.provider, stack.bus), layout);
    assert.equal(res.code, 'OK', res.stopReason);
    assert.ok(stack.logLines.some((l) => /revocation list ignored/.test(l) && /signature does not verify/.test(l)), stack.logLines.join('\n'));
  } finally {
    stack.stop();
  }
});

void signIso2;
