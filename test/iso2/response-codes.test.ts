/**
 * Every ISO 15118-2 request that a sequence error or a bad parameter can reach, with the response
 * code the standard requires, in the response type matching the request, and the session ended
 * afterwards (contactors commanded open where they were closed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HLC } from '@opensecc/core/v2g/index';
import { ISO2 } from '@opensecc/core/v2g/iso2/index';
import { iso2Setup } from './helpers/harness.js';
import { A, acChargeParameters, currentDemand, dcChargeParameters, dcStart, dcStatus, selectCharge, toAcCharging, toAuthorized, toPreCharge, V, W } from './helpers/requests.js';

/** A schema-valid body for every request of ISO 15118-2. */
const BODIES: Record<string, Record<string, unknown>> = {
  SessionSetupReq: { EVCCID: '0465650064c3' },
  ServiceDiscoveryReq: {},
  ServiceDetailReq: { ServiceID: 1 },
  PaymentServiceSelectionReq: selectCharge,
  PaymentDetailsReq: { eMAID: 'DEABC1234567890', ContractSignatureCertChain: { Certificate: '3082' } },
  CertificateInstallationReq: { Id: 'id1', OEMProvisioningCert: '3082', ListOfRootCertificateIDs: { RootCertificateID: [{ X509IssuerName: 'CN=Root', X509SerialNumber: 1 }] } },
  CertificateUpdateReq: { Id: 'id1', ContractSignatureCertChain: { Certificate: '3082' }, eMAID: 'DEABC1234567890', ListOfRootCertificateIDs: { RootCertificateID: [{ X509IssuerName: 'CN=Root', X509SerialNumber: 1 }] } },
  AuthorizationReq: {},
  ChargeParameterDiscoveryReq: dcChargeParameters,
  CableCheckReq: { DC_EVStatus: dcStatus() },
  PreChargeReq: { DC_EVStatus: dcStatus(), EVTargetVoltage: V(380), EVTargetCurrent: A(2) },
  PowerDeliveryReq: dcStart(),
  ChargingStatusReq: {},
  CurrentDemandReq: currentDemand(),
  MeteringReceiptReq: { SessionID: '0102030405060708', MeterInfo: { MeterID: 'M1' } },
  WeldingDetectionReq: { DC_EVStatus: dcStatus() },
  SessionStopReq: { ChargingSession: 'Terminate' },
};
const REQUESTS = Object.keys(BODIES);

test('FAILED_SequenceError: every request out of order, answered in its own response type, and the session ends', async () => {
  for (const name of REQUESTS) {
    if (name === 'ServiceDiscoveryReq' || name === 'SessionStopReq') continue; // expected / always accepted after SessionSetup
    const s = iso2Setup();
    await s.send('SessionSetupReq', { EVCCID: 'aabbccddeeff' });
    const r = await s.send(name, BODIES[name]);
    assert.equal(r.responseName, name.replace(/Req$/, 'Res'), name);
    assert.equal(r.responseCode, 'FAILED_SequenceError', name);
    assert.equal(r.close, true, name);
    assert.equal(s.bus.get(HLC.session.state), 'error', name);
    assert.equal(s.session.ended, true);
  }
  // Before SessionSetup, everything but SessionSetupReq (SessionStopReq included).
  for (const name of REQUESTS.filter((n) => n !== 'SessionSetupReq')) {
    const r = await iso2Setup().send(name, BODIES[name]);
    assert.equal(r.responseCode, 'FAILED_SequenceError', `${name} first`);
  }
});

test('FAILED_SequenceError: a second SessionSetupReq, AC messages in DC, DC messages in AC, a request after the end', async () => {
  const s = iso2Setup();
  await toPreCharge(s);
  assert.equal((await s.send('SessionSetupReq', BODIES.SessionSetupReq)).responseCode, 'FAILED_SequenceError');
  assert.equal((await s.send('CurrentDemandReq', currentDemand())).responseCode, 'FAILED_SequenceError', 'after the end');

  const dc = iso2Setup();
  await toPreCharge(dc);
  await dc.send('PowerDeliveryReq', dcStart());
  const acInDc = await dc.send('ChargingStatusReq');
  assert.deepEqual([acInDc.responseName, acInDc.responseCode], ['ChargingStatusRes', 'FAILED_SequenceError']);
  assert.deepEqual(dc.port.calls, ['power:true', 'power:false'], 'contactors opened when the session ends');

  const ac = iso2Setup({ config: { energyTransferModes: ['AC_single_phase_core'] } });
  ac.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  await toAuthorized(ac);
  await ac.send('ChargeParameterDiscoveryReq', { ...acChargeParameters, RequestedEnergyTransferMode: 'AC_single_phase_core' });
  for (const name of ['CableCheckReq', 'PreChargeReq']) {
    const fresh = iso2Setup({ config: { energyTransferModes: ['AC_single_phase_core'] } });
    fresh.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
    await toAuthorized(fresh);
    await fresh.send('ChargeParameterDiscoveryReq', { ...acChargeParameters, RequestedEnergyTransferMode: 'AC_single_phase_core' });
    assert.equal((await fresh.send(name, BODIES[name])).responseCode, 'FAILED_SequenceError', `${name} in AC`);
  }
  const renegotiateEarly = await ac.send('PowerDeliveryReq', { ChargeProgress: 'Renegotiate', SAScheduleTupleID: 1 });
  assert.equal(renegotiateEarly.responseCode, 'FAILED_SequenceError', 'Renegotiate before charging');
  assert.ok(renegotiateEarly.body!.AC_EVSEStatus, 'AC status in the AC session');
});

test('FAILED_UnknownSession: every request after SessionSetup with another SessionID', async () => {
  for (const name of REQUESTS.filter((n) => n !== 'SessionSetupReq')) {
    const s = iso2Setup();
    await s.send('SessionSetupReq', BODIES.SessionSetupReq);
    const r = await s.send(name, BODIES[name], 'deadbeefdeadbeef');
    assert.equal(r.responseName, name.replace(/Req$/, 'Res'), name);
    assert.equal(r.responseCode, 'FAILED_UnknownSession', name);
    assert.equal(r.close, true);
  }
  // MeteringReceiptReq names the session in its body too.
  const s = await acCharging();
  const r = await s.send('MeteringReceiptReq', { SessionID: '0102030405060708', MeterInfo: { MeterID: 'M1' } });
  assert.equal(r.responseCode, 'FAILED_UnknownSession');
});

async function acCharging() {
  const s = iso2Setup({ config: { energyTransferModes: ['AC_three_phase_core'] } });
  s.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  await toAcCharging(s);
  return s;
}

test('ServiceDetail: FAILED_ServiceIDInvalid for a service not offered; OK for the charge service', async () => {
  const s = iso2Setup();
  await s.send('SessionSetupReq', BODIES.SessionSetupReq);
  await s.send('ServiceDiscoveryReq');
  assert.equal((await s.send('ServiceDetailReq', { ServiceID: 1 })).responseCode, 'OK');
  const bad = await s.send('ServiceDetailReq', { ServiceID: 3 });
  assert.deepEqual([bad.responseCode, bad.body!.ServiceID], ['FAILED_ServiceIDInvalid', 1]);
});

test('PaymentServiceSelection: FAILED_PaymentSelectionInvalid, FAILED_NoChargeServiceSelected, FAILED_ServiceSelectionInvalid', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ SelectedPaymentOption: 'Contract', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } }, 'FAILED_PaymentSelectionInvalid'],
    [{ SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 2 }] } }, 'FAILED_NoChargeServiceSelected'],
    [{ SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }, { ServiceID: 7 }] } }, 'FAILED_ServiceSelectionInvalid'],
  ];
  for (const [body, code] of cases) {
    const s = iso2Setup();
    await s.send('SessionSetupReq', BODIES.SessionSetupReq);
    await s.send('ServiceDiscoveryReq');
    const r = await s.send('PaymentServiceSelectionReq', body);
    assert.equal(r.responseCode, code, JSON.stringify(body));
  }
});

test('Authorization: Ongoing while the customer decides, FAILED when rejected or after V2G_SECC_Ongoing_Timeout', async () => {
  let now = 0;
  const s = iso2Setup({ now: () => now, config: { ongoingTimeoutMs: 1000 } });
  s.evse.set({ authorization: 'Ongoing' });
  const { auth } = await toAuthorized(s);
  assert.deepEqual([auth.responseCode, auth.body!.EVSEProcessing], ['OK', 'Ongoing']);
  now = 900;
  assert.equal((await s.send('AuthorizationReq')).body!.EVSEProcessing, 'Ongoing');
  now = 1500;
  const expired = await s.send('AuthorizationReq');
  assert.equal(expired.responseCode, 'FAILED');
  assert.match(String(s.bus.get(HLC.session.stopReason)), /V2G_SECC_Ongoing_Timeout/);

  const rejected = iso2Setup();
  rejected.evse.set({ authorization: 'Rejected' });
  assert.equal((await toAuthorized(rejected)).auth.responseCode, 'FAILED');
});

test('ChargeParameterDiscovery: FAILED_WrongEnergyTransferMode and FAILED_WrongChargeParameter', async () => {
  const run = async (body: Record<string, unknown>, config = {}) => {
    const s = iso2Setup({ config });
    s.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
    await toAuthorized(s);
    return s.send('ChargeParameterDiscoveryReq', body);
  };
  assert.equal((await run(acChargeParameters)).responseCode, 'FAILED_WrongEnergyTransferMode', 'AC asked of a DC-only EVSE');
  assert.equal((await run({ ...dcChargeParameters, RequestedEnergyTransferMode: 'DC_core' })).responseCode, 'FAILED_WrongEnergyTransferMode', 'a DC mode not offered');
  const acParamsForDc = await run({ RequestedEnergyTransferMode: 'DC_extended', AC_EVChargeParameter: acChargeParameters.AC_EVChargeParameter });
  assert.equal(acParamsForDc.responseCode, 'FAILED_WrongChargeParameter');
  assert.ok(acParamsForDc.body!.DC_EVSEChargeParameter);
  const lowVoltage = await run({ RequestedEnergyTransferMode: 'DC_extended', DC_EVChargeParameter: { DC_EVStatus: dcStatus(), EVMaximumCurrentLimit: A(100), EVMaximumVoltageLimit: V(100) } });
  assert.equal(lowVoltage.responseCode, 'FAILED_WrongChargeParameter', 'EV max voltage below the EVSE minimum');
  const acConfig = { energyTransferModes: ['AC_three_phase_core'] as const };
  const dcParamsForAc = await run({ RequestedEnergyTransferMode: 'AC_three_phase_core', DC_EVChargeParameter: dcChargeParameters.DC_EVChargeParameter }, acConfig);
  assert.equal(dcParamsForAc.responseCode, 'FAILED_WrongChargeParameter');
  assert.ok(dcParamsForAc.body!.AC_EVSEChargeParameter, 'AC charge parameter in the answer to an AC request');
  const tooMuchMin = await run({ ...acChargeParameters, AC_EVChargeParameter: { ...acChargeParameters.AC_EVChargeParameter, EVMinCurrent: A(20) } }, acConfig);
  assert.equal(tooMuchMin.responseCode, 'FAILED_WrongChargeParameter', 'EV minimum current above the EVSE maximum');
});

test('ChargeParameterDiscovery in a renegotiation: another energy transfer mode is FAILED_WrongEnergyTransferMode', async () => {
  const s = iso2Setup({ config: { energyTransferModes: ['AC_three_phase_core', 'AC_single_phase_core'] } });
  s.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  await toAcCharging(s);
  await s.send('PowerDeliveryReq', { ChargeProgress: 'Renegotiate', SAScheduleTupleID: 1 });
  const r = await s.send('ChargeParameterDiscoveryReq', { ...acChargeParameters, RequestedEnergyTransferMode: 'AC_single_phase_core' });
  assert.equal(r.responseCode, 'FAILED_WrongEnergyTransferMode');
  assert.deepEqual(s.port.calls, ['power:true', 'power:false']);
});

test('PowerDelivery: FAILED_TariffSelectionInvalid, FAILED_ChargingProfileInvalid, FAILED_PowerDeliveryNotApplied, FAILED_ContactorError', async () => {
  const schedules = [{ id: 2, duration: 3600, entries: [{ start: 0, maxPower: { value: 50, multiplier: 3, unit: 'W' as const } }, { start: 1800, maxPower: { value: 20, multiplier: 3, unit: 'W' as const } }] }];
  const prepared = async () => {
    const s = iso2Setup({ config: { schedules } });
    await toPreCharge(s);
    return s;
  };
  const profile = (...entries: Array<[number, number]>) => ({ ChargingProfile: { ProfileEntry: entries.map(([start, watts]) => ({ ChargingProfileEntryStart: start, ChargingProfileEntryMaxPower: W(watts / 1000, 3) })) } });

  assert.equal((await (await prepared()).send('PowerDeliveryReq', dcStart(1))).responseCode, 'FAILED_TariffSelectionInvalid', 'tuple 1 was not offered');
  const invalid: Array<[string, Record<string, unknown>]> = [
    ['above PMax from the start', profile([0, 60_000])],
    ['above PMax once the schedule drops at 1800 s', profile([0, 50_000])],
    ['above PMax in the second entry', profile([0, 50_000], [1800, 25_000])],
    ['entries not ascending', profile([0, 10_000], [0, 10_000])],
    ['starting after the schedule ends', profile([0, 10_000], [3600, 10_000])],
  ];
  for (const [why, extra] of invalid) {
    const s = await prepared();
    const r = await s.send('PowerDeliveryReq', dcStart(2, extra));
    assert.equal(r.responseCode, 'FAILED_ChargingProfileInvalid', why);
    assert.deepEqual(s.port.calls, ['power:false'], `${why}: contactors never closed`);
  }
  const fits = await (await prepared()).send('PowerDeliveryReq', dcStart(2, profile([0, 50_000], [1800, 20_000])));
  assert.equal(fits.responseCode, 'OK');

  const stopped = await prepared();
  stopped.evse.set({ stopCharging: true });
  assert.equal((await stopped.send('PowerDeliveryReq', dcStart(2))).responseCode, 'FAILED_PowerDeliveryNotApplied');

  const rcd = iso2Setup({ config: { energyTransferModes: ['AC_three_phase_core'] } });
  rcd.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  rcd.bus.publish(ISO2.evse.rcd, true);
  assert.equal((await toAcCharging(rcd)).start.responseCode, 'FAILED_PowerDeliveryNotApplied', 'RCD tripped');

  const broken = await prepared();
  broken.port.closeResult = false;
  const r = await broken.send('PowerDeliveryReq', dcStart(2));
  assert.equal(r.responseCode, 'FAILED_ContactorError');
  assert.ok(broken.port.calls.includes('safeStop:power_delivery_failed'));
});

test('AC PowerDelivery: answered before the contactors close (the EV goes to C after it); contactors that never close are FAILED_ContactorError at the next ChargingStatus', async () => {
  const s = iso2Setup({ config: { energyTransferModes: ['AC_three_phase_core'], acContactorTimeoutMs: 100 } });
  s.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  let release!: (ok: boolean) => void;
  s.port.requestPowerDelivery = async (on: boolean) => {
    s.port.calls.push(`power:${on}`);
    return on ? new Promise<boolean>((resolve) => (release = resolve)) : true;
  };
  const { start } = await toAcCharging(s);
  assert.equal(start.responseCode, 'OK', 'answered while the contactors are still open');
  assert.equal((await s.send('ChargingStatusReq')).responseCode, 'OK');
  await new Promise((resolve) => setTimeout(resolve, 150)); // past acContactorTimeoutMs
  release(false);
  const r = await s.send('ChargingStatusReq');
  assert.equal(r.responseCode, 'FAILED_ContactorError');
  assert.ok(s.port.calls.includes('safeStop:power_delivery_failed'));
});

test('MeteringReceipt: FAILED_TariffSelectionInvalid for another schedule than the charging one', async () => {
  const s = await acCharging();
  const r = await s.send('MeteringReceiptReq', { SessionID: s.session.sessionId, SAScheduleTupleID: 4, MeterInfo: { MeterID: 'M1' } });
  assert.equal(r.responseCode, 'FAILED_TariffSelectionInvalid');
  assert.ok(r.body!.AC_EVSEStatus);
});

test('EVSE-side failures: isolation fault in CableCheck and error shutdown in CurrentDemand are FAILED and end the session', async () => {
  const cable = iso2Setup();
  await toAuthorized(cable);
  await cable.send('ChargeParameterDiscoveryReq', dcChargeParameters);
  cable.evse.set({ isolationStatus: 'Fault' });
  assert.equal((await cable.send('CableCheckReq', { DC_EVStatus: dcStatus() })).responseCode, 'FAILED');
  assert.ok(cable.port.calls.includes('safeStop:isolation_fault'));

  const s = iso2Setup();
  await toPreCharge(s);
  await s.send('PowerDeliveryReq', dcStart());
  s.evse.set({ errorShutdown: true });
  const r = await s.send('CurrentDemandReq', currentDemand());
  assert.equal(r.responseCode, 'FAILED');
  assert.equal((r.body!.DC_EVSEStatus as any).EVSEStatusCode, 'EVSE_EmergencyShutdown');
  assert.ok(s.port.calls.includes('safeStop:evse_error_shutdown'));
  assert.ok(s.port.calls.includes('power:false'));
});

test('a request that is not a V2G_Message request closes without a response', async () => {
  const s = iso2Setup();
  const outcome = await s.session.handle({ V2G_Message: { Header: { SessionID: '00' }, Body: { SessionSetupRes: {} } } });
  assert.equal(outcome.response, undefined);
  assert.equal(outcome.close, true);
  assert.match(String(outcome.stopReason), /not a request/);
});
