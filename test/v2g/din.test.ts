import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@opensecc/exi-codec';
import { DinSeccSession, HlcReporter, HLC, type DinOutcome } from '@opensecc/core/v2g/index';
import { FakePort } from '#support/charging-port.js';
import { ManualEvse } from '#support/evse.js';
import { hlcBus } from './helpers/secc.js';
import { recordingLogger } from '#support/log.js';

const ZERO = '0000000000000000';
const msg = (name: string, body: Record<string, unknown>, sessionId = ZERO) => ({ V2G_Message: { Header: { SessionID: sessionId }, Body: { [name]: body } } });
const status = { EVReady: true, EVErrorCode: 'NO_ERROR', EVRESSSOC: 50 };
const V = (v: number) => ({ Multiplier: 0, Unit: 'V', Value: v });
const A = (v: number) => ({ Multiplier: 0, Unit: 'A', Value: v });
const chargeParameters = {
  EVRequestedEnergyTransferType: 'DC_extended',
  DC_EVChargeParameter: { DC_EVStatus: status, EVMaximumCurrentLimit: A(100), EVMaximumVoltageLimit: V(400) },
};

function setup(options: { now?: () => number; ongoingTimeoutMs?: number } = {}) {
  const { bus } = hlcBus();
  const evse = new ManualEvse();
  const port = new FakePort();
  const log = recordingLogger();
  const session = new DinSeccSession({
    evse,
    report: new HlcReporter(bus, log),
    log,
    port,
    ...(options.now ? { now: options.now } : {}),
    config: { ongoingTimeoutMs: options.ongoingTimeoutMs ?? 60_000 },
  });
  const send = async (name: string, body: Record<string, unknown> = {}, sid?: string) => {
    const outcome: DinOutcome = await session.handle(msg(name, body, sid ?? (session.sessionId || ZERO)));
    if (outcome.response) encode('din', outcome.response); // every response must be encodable
    const resBody = outcome.response ? (Object.values((outcome.response as { V2G_Message: { Body: object } }).V2G_Message.Body)[0] as Record<string, unknown>) : undefined;
    return { ...outcome, body: resBody };
  };
  return { session, evse, port, bus, log, send };
}

async function toPreCharge(s: ReturnType<typeof setup>) {
  await s.send('SessionSetupReq', { EVCCID: '0465650064c3' });
  await s.send('ServiceDiscoveryReq', { ServiceCategory: 'EVCharging' });
  await s.send('ServicePaymentSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } });
  await s.send('ContractAuthenticationReq');
  await s.send('ChargeParameterDiscoveryReq', chargeParameters);
  await s.send('CableCheckReq', { DC_EVStatus: status });
  return s.send('PreChargeReq', { DC_EVStatus: status, EVTargetVoltage: V(380), EVTargetCurrent: A(2) });
}

test('DIN: a complete DC session, contactors closed at PowerDelivery start and opened at stop', async () => {
  const s = setup();
  const pre = await toPreCharge(s);
  assert.match(s.session.sessionId, /^[0-9a-f]{16}$/);
  assert.equal(s.bus.get(HLC.session.id), s.session.sessionId);
  assert.equal(s.bus.get(HLC.ev.evccid), '0465650064c3');
  assert.equal(pre.responseCode, 'OK');
  assert.deepEqual(s.bus.get(HLC.ev.targetVoltage), { value: 380, multiplier: 0, unit: 'V' });
  const start = await s.send('PowerDeliveryReq', { ReadyToChargeState: true, DC_EVPowerDeliveryParameter: { DC_EVStatus: status, ChargingComplete: false } });
  assert.equal(start.responseCode, 'OK');
  assert.deepEqual(s.port.calls, ['power:true']);
  assert.equal(s.bus.get(HLC.session.state), 'charging');
  s.evse.set({ presentVoltage: { value: 3801, multiplier: -1, unit: 'V' }, presentCurrent: { value: 100, multiplier: 0, unit: 'A' } });
  const demand = await s.send('CurrentDemandReq', { DC_EVStatus: { ...status, EVRESSSOC: 51 }, EVTargetCurrent: A(200), EVTargetVoltage: V(400), ChargingComplete: false });
  assert.equal(demand.responseCode, 'OK');
  assert.deepEqual(demand.body!.EVSEPresentVoltage, { Multiplier: -1, Unit: 'V', Value: 3801 });
  assert.equal(demand.body!.EVSECurrentLimitAchieved, true); // 200 A asked, 200 A max
  assert.equal(s.bus.get(HLC.ev.soc), 51);
  await s.send('PowerDeliveryReq', { ReadyToChargeState: false, DC_EVPowerDeliveryParameter: { DC_EVStatus: status, ChargingComplete: true } });
  assert.deepEqual(s.port.calls, ['power:true', 'power:false']);
  assert.equal((await s.send('WeldingDetectionReq', { DC_EVStatus: status })).responseCode, 'OK');
  const stop = await s.send('SessionStopReq');
  assert.equal(stop.responseCode, 'OK');
  assert.equal(stop.close, true);
  assert.equal(s.bus.get(HLC.session.state), 'stopped');
});

test('DIN: out-of-sequence requests get FAILED_SequenceError in the matching response type and end the session', async () => {
  const first = setup();
  const early = await first.send('CurrentDemandReq', { DC_EVStatus: status, EVTargetCurrent: A(1), EVTargetVoltage: V(1), ChargingComplete: false });
  assert.equal(early.responseName, 'CurrentDemandRes');
  assert.equal(early.responseCode, 'FAILED_SequenceError');
  assert.equal(early.close, true);

  const second = setup();
  await second.send('SessionSetupReq', { EVCCID: 'aa' });
  const skipped = await second.send('ContractAuthenticationReq');
  assert.equal(skipped.responseName, 'ContractAuthenticationRes');
  assert.equal(skipped.responseCode, 'FAILED_SequenceError');
  assert.equal(second.bus.get(HLC.session.state), 'error');
  assert.match(String(second.bus.get(HLC.session.stopReason)), /ContractAuthenticationReq not expected after session_setup/);

  const third = setup();
  await toPreCharge(third);
  const again = await third.send('SessionSetupReq', { EVCCID: 'aa' });
  assert.equal(again.responseCode, 'FAILED_SequenceError');
  assert.deepEqual(third.port.calls, ['power:false']); // ended: contactors commanded open
});

test('DIN: a wrong SessionID is FAILED_UnknownSession', async () => {
  const s = setup();
  await s.send('SessionSetupReq', { EVCCID: 'aa' });
  const wrong = await s.send('ServiceDiscoveryReq', {}, '0102030405060708');
  assert.equal(wrong.responseCode, 'FAILED_UnknownSession');
  assert.equal(wrong.close, true);
});

test('DIN: payment and service selection are checked', async () => {
  const s = setup();
  await s.send('SessionSetupReq', { EVCCID: 'aa' });
  await s.send('ServiceDiscoveryReq');
  const contract = await s.send('ServicePaymentSelectionReq', { SelectedPaymentOption: 'Contract', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } });
  assert.equal(contract.responseCode, 'FAILED_PaymentSelectionInvalid');
  const t = setup();
  await t.send('SessionSetupReq', { EVCCID: 'aa' });
  await t.send('ServiceDiscoveryReq');
  const service = await t.send('ServicePaymentSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 7 }] } });
  assert.equal(service.responseCode, 'FAILED_ServiceSelectionInvalid');
});

test('DIN: EVSEProcessing stays Ongoing while authorization, limits and isolation are pending', async () => {
  const s = setup();
  s.evse.set({ authorization: 'Ongoing', processing: 'Ongoing', isolationStatus: 'Invalid' });
  await s.send('SessionSetupReq', { EVCCID: 'aa' });
  await s.send('ServiceDiscoveryReq');
  await s.send('ServicePaymentSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } });
  for (let i = 0; i < 3; i++) assert.equal((await s.send('ContractAuthenticationReq')).body!.EVSEProcessing, 'Ongoing');
  s.evse.set({ authorization: 'Accepted' });
  assert.equal((await s.send('ContractAuthenticationReq')).body!.EVSEProcessing, 'Finished');
  assert.equal((await s.send('ChargeParameterDiscoveryReq', chargeParameters)).body!.EVSEProcessing, 'Ongoing');
  s.evse.set({ processing: 'Finished' });
  const cpd = await s.send('ChargeParameterDiscoveryReq', chargeParameters);
  assert.equal(cpd.body!.EVSEProcessing, 'Finished');
  assert.deepEqual(s.bus.get(HLC.ev.maxVoltage), { value: 400, multiplier: 0, unit: 'V' });
  const check = await s.send('CableCheckReq', { DC_EVStatus: status });
  assert.equal(check.body!.EVSEProcessing, 'Ongoing');
  assert.equal((check.body!.DC_EVSEStatus as Record<string, unknown>).EVSEStatusCode, 'EVSE_IsolationMonitoringActive');
  s.evse.set({ isolationStatus: 'Warning' });
  assert.equal((await s.send('CableCheckReq', { DC_EVStatus: status })).body!.EVSEProcessing, 'Finished');
});

test('DIN: authorization rejected, isolation fault and Ongoing timeout end the session', async () => {
  const rejected = setup();
  rejected.evse.set({ authorization: 'Rejected' });
  await rejected.send('SessionSetupReq', { EVCCID: 'aa' });
  await rejected.send('ServiceDiscoveryReq');
  await rejected.send('ServicePaymentSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } });
  const r = await rejected.send('ContractAuthenticationReq');
  assert.equal(r.responseCode, 'FAILED');
  assert.equal(r.close, true);

  const fault = setup();
  fault.evse.set({ isolationStatus: 'Fault' });
  await fault.send('SessionSetupReq', { EVCCID: 'aa' });
  await fault.send('ServiceDiscoveryReq');
  await fault.send('ServicePaymentSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } });
  await fault.send('ContractAuthenticationReq');
  await fault.send('ChargeParameterDiscoveryReq', chargeParameters);
  const f = await fault.send('CableCheckReq', { DC_EVStatus: status });
  assert.equal(f.responseCode, 'FAILED');
  assert.ok(fault.port.calls.includes('safeStop:isolation_fault'));

  let now = 0;
  const slow = setup({ now: () => now, ongoingTimeoutMs: 1000 });
  slow.evse.set({ authorization: 'Ongoing' });
  await slow.send('SessionSetupReq', { EVCCID: 'aa' });
  await slow.send('ServiceDiscoveryReq');
  await slow.send('ServicePaymentSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } });
  assert.equal((await slow.send('ContractAuthenticationReq')).body!.EVSEProcessing, 'Ongoing');
  now = 900;
  assert.equal((await slow.send('ContractAuthenticationReq')).body!.EVSEProcessing, 'Ongoing');
  now = 1100;
  const timedOut = await slow.send('ContractAuthenticationReq');
  assert.equal(timedOut.responseCode, 'FAILED');
  assert.match(timedOut.stopReason ?? '', /V2G_SECC_Ongoing_Timeout/);
});

test('DIN: a welded/failed contactor at PowerDelivery is FAILED_PowerDeliveryNotApplied and a safe stop', async () => {
  const s = setup();
  await toPreCharge(s);
  s.port.closeResult = false;
  const res = await s.send('PowerDeliveryReq', { ReadyToChargeState: true, DC_EVPowerDeliveryParameter: { DC_EVStatus: status, ChargingComplete: false } });
  assert.equal(res.responseCode, 'FAILED_PowerDeliveryNotApplied');
  assert.ok(s.port.calls.includes('safeStop:power_delivery_failed'));
});

test('DIN: stop charging from the EVSE side is signalled; error shutdown opens the contactors at once', async () => {
  const s = setup();
  await toPreCharge(s);
  await s.send('PowerDeliveryReq', { ReadyToChargeState: true, DC_EVPowerDeliveryParameter: { DC_EVStatus: status, ChargingComplete: false } });
  s.evse.set({ stopCharging: true });
  const cd = await s.send('CurrentDemandReq', { DC_EVStatus: status, EVTargetCurrent: A(10), EVTargetVoltage: V(400), ChargingComplete: false });
  assert.equal(cd.responseCode, 'OK');
  assert.deepEqual(cd.body!.DC_EVSEStatus, { EVSEIsolationStatus: 'Valid', EVSEStatusCode: 'EVSE_Shutdown', NotificationMaxDelay: 0, EVSENotification: 'StopCharging' });

  const e = setup();
  await toPreCharge(e);
  await e.send('PowerDeliveryReq', { ReadyToChargeState: true, DC_EVPowerDeliveryParameter: { DC_EVStatus: status, ChargingComplete: false } });
  e.evse.set({ errorShutdown: true });
  const res = await e.send('CurrentDemandReq', { DC_EVStatus: status, EVTargetCurrent: A(10), EVTargetVoltage: V(400), ChargingComplete: false });
  assert.equal(res.responseCode, 'FAILED');
  assert.equal((res.body!.DC_EVSEStatus as Record<string, unknown>).EVSEStatusCode, 'EVSE_EmergencyShutdown');
  assert.equal(res.close, true);
  assert.deepEqual(e.port.calls.slice(-2), ['safeStop:evse_error_shutdown', 'power:false']);
});

test('DIN: a request that is not a V2G request closes without a response', async () => {
  const s = setup();
  const outcome = await s.session.handle({ V2G_Message: { Header: { SessionID: ZERO }, Body: { SessionSetupRes: {} } } });
  assert.equal(outcome.response, undefined);
  assert.equal(outcome.close, true);
});
