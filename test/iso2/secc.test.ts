/**
 * The ISO 15118-2 SECC state machine in-process, every message through the real iso2 codec both
 * ways: full DC and AC sessions, schedules and tariffs, the charging profile check, pause/resume
 * with the same SessionID, and renegotiation triggered by the EVSE and by the EV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HLC } from '@opensecc/core/v2g/index';
import { ISO2 } from '@opensecc/core/v2g/iso2/index';
import { iso2Setup } from './helpers/harness.js';
import { A, acChargeParameters, currentDemand, dcStart, dcStatus, dcStop, toAcCharging, toAuthorized, toPreCharge, V, W } from './helpers/requests.js';

const AC_CONFIG = { energyTransferModes: ['AC_three_phase_core', 'AC_single_phase_core'] as const };

test('ISO 15118-2 DC: a complete session, SAScheduleList offered, contactors closed at Start and opened at Stop', async () => {
  const s = iso2Setup();
  const { cpd, pre } = await toPreCharge(s);
  assert.match(s.session.sessionId, /^[0-9a-f]{16}$/);
  assert.equal(cpd.responseCode, 'OK');
  assert.equal(cpd.body!.EVSEProcessing, 'Finished');
  const tuple = (cpd.body!.SAScheduleList as { SAScheduleTuple: Array<Record<string, unknown>> }).SAScheduleTuple[0]!;
  assert.equal(tuple.SAScheduleTupleID, 1);
  // Default schedule: the EVSE's maximum power (100 kW) for 24 h.
  assert.deepEqual((tuple.PMaxSchedule as { PMaxScheduleEntry: unknown[] }).PMaxScheduleEntry, [{ RelativeTimeInterval: { start: 0, duration: 86400 }, PMax: { Multiplier: 3, Unit: 'W', Value: 100 } }]);
  assert.deepEqual((cpd.body!.DC_EVSEChargeParameter as Record<string, unknown>).EVSEMaximumPowerLimit, { Multiplier: 3, Unit: 'W', Value: 100 });
  assert.equal(s.bus.get(ISO2.ev.departureTime), 3600);
  assert.equal(pre.responseCode, 'OK');
  const start = await s.send('PowerDeliveryReq', dcStart(1, { ChargingProfile: { ProfileEntry: [{ ChargingProfileEntryStart: 0, ChargingProfileEntryMaxPower: W(50, 3) }] } }));
  assert.equal(start.responseCode, 'OK');
  assert.deepEqual(s.port.calls, ['power:true']);
  assert.equal(s.bus.get(HLC.session.state), 'charging');
  assert.deepEqual(s.bus.get(ISO2.ev.chargingProfile), [{ start: 0, maxPower: { value: 50, multiplier: 3, unit: 'W' } }]);
  s.evse.set({ presentVoltage: { value: 3801, multiplier: -1, unit: 'V' }, presentCurrent: { value: 50, multiplier: 0, unit: 'A' } });
  s.bus.publish(ISO2.evse.meterInfo, { meterId: 'METER1', meterReading: 1234 });
  const demand = await s.send('CurrentDemandReq', currentDemand(51));
  assert.equal(demand.responseCode, 'OK');
  assert.deepEqual(demand.body!.EVSEPresentVoltage, { Multiplier: -1, Unit: 'V', Value: 3801 });
  assert.equal(demand.body!.EVSEID, 'ZZ00000');
  assert.equal(demand.body!.SAScheduleTupleID, 1);
  assert.deepEqual(demand.body!.MeterInfo, { MeterID: 'METER1', MeterReading: 1234 });
  assert.equal(s.bus.get(HLC.ev.soc), 51);
  await s.send('PowerDeliveryReq', dcStop);
  assert.deepEqual(s.port.calls, ['power:true', 'power:false']);
  assert.equal((await s.send('WeldingDetectionReq', { DC_EVStatus: dcStatus() })).responseCode, 'OK');
  const stop = await s.send('SessionStopReq', { ChargingSession: 'Terminate' });
  assert.equal(stop.responseCode, 'OK');
  assert.equal(stop.close, true);
  assert.equal(stop.paused, false);
  assert.equal(s.bus.get(HLC.session.state), 'stopped');
  assert.equal(s.bus.get(ISO2.session.paused), false);
});

test('ISO 15118-2 AC: ChargeParameterDiscovery Ongoing until the EVSE maximum current is known, then ChargingStatus with the AC status', async () => {
  const s = iso2Setup({ config: AC_CONFIG });
  await toAuthorized(s);
  const waiting = await s.send('ChargeParameterDiscoveryReq', acChargeParameters);
  assert.equal(waiting.responseCode, 'OK');
  assert.equal(waiting.body!.EVSEProcessing, 'Ongoing');
  assert.equal(waiting.body!.SAScheduleList, undefined);
  assert.deepEqual(s.bus.get(ISO2.ev.acMaxCurrent), { value: 16, multiplier: 0, unit: 'A' });
  assert.deepEqual(s.bus.get(ISO2.ev.eAmount), { value: 30, multiplier: 3, unit: 'Wh' });
  assert.equal(s.bus.get(ISO2.ev.departureTime), 7200);
  s.bus.publish(ISO2.evse.acMaxCurrent, { value: 32, multiplier: 0, unit: 'A' });
  const done = await s.send('ChargeParameterDiscoveryReq', acChargeParameters);
  assert.equal(done.body!.EVSEProcessing, 'Finished');
  assert.deepEqual(done.body!.AC_EVSEChargeParameter, {
    AC_EVSEStatus: { NotificationMaxDelay: 0, EVSENotification: 'None', RCD: false },
    EVSENominalVoltage: { Multiplier: 0, Unit: 'V', Value: 230 },
    EVSEMaxCurrent: { Multiplier: 0, Unit: 'A', Value: 32 },
  });
  // Default schedule for AC three-phase: 230 V × 32 A × 3 = 22 080 W.
  const pmax = (done.body!.SAScheduleList as any).SAScheduleTuple[0].PMaxSchedule.PMaxScheduleEntry[0].PMax;
  assert.equal(pmax.Value * 10 ** pmax.Multiplier, 22080);
  const start = await s.send('PowerDeliveryReq', { ChargeProgress: 'Start', SAScheduleTupleID: 1 });
  assert.equal(start.responseCode, 'OK');
  assert.ok(start.body!.AC_EVSEStatus, 'AC status in PowerDeliveryRes');
  assert.deepEqual(s.port.calls, ['power:true']);
  const status = await s.send('ChargingStatusReq');
  assert.equal(status.responseCode, 'OK');
  assert.deepEqual(status.body!.EVSEMaxCurrent, { Multiplier: 0, Unit: 'A', Value: 32 });
  assert.equal(status.body!.SAScheduleTupleID, 1);
  // DC messages have no place in an AC session.
  const wrong = await iso2SetupAcCharging();
  const dcInAc = await wrong.send('CurrentDemandReq', currentDemand());
  assert.equal(dcInAc.responseCode, 'FAILED_SequenceError');
  await s.send('PowerDeliveryReq', { ChargeProgress: 'Stop', SAScheduleTupleID: 1 });
  assert.deepEqual(s.port.calls, ['power:true', 'power:false']);
  const welding = await iso2SetupAcCharging();
  await welding.send('PowerDeliveryReq', { ChargeProgress: 'Stop', SAScheduleTupleID: 1 });
  assert.equal((await welding.send('WeldingDetectionReq', { DC_EVStatus: dcStatus() })).responseCode, 'FAILED_SequenceError');
  assert.equal((await s.send('SessionStopReq', { ChargingSession: 'Terminate' })).responseCode, 'OK');
});

async function iso2SetupAcCharging() {
  const s = iso2Setup({ config: AC_CONFIG });
  s.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  const { start } = await toAcCharging(s);
  assert.equal(start.responseCode, 'OK');
  return s;
}

test('schedules and sales tariff from MQTT win over the config; the config wins over the default', async () => {
  const schedules = [
    { id: 3, duration: 7200, entries: [{ start: 0, maxPower: { value: 11, multiplier: 3, unit: 'W' } }, { start: 3600, maxPower: { value: 7, multiplier: 3, unit: 'W' } }] },
    { id: 4, entries: [{ start: 0, maxPower: { value: 3680, multiplier: 0, unit: 'W' } }] },
  ];
  const tariff = { id: 9, description: 'night', numEPriceLevels: 2, entries: [{ start: 0, ePriceLevel: 1 }, { start: 1800, ePriceLevel: 2, relativePricePercentage: 80 }] };
  const configured = iso2Setup({ config: { schedules: [{ id: 7, entries: [{ start: 0, maxPower: { value: 5, multiplier: 3, unit: 'W' } }] }], salesTariff: tariff } });
  await toAuthorized(configured);
  const fromConfig = await configured.send('ChargeParameterDiscoveryReq', { RequestedEnergyTransferMode: 'DC_extended', DC_EVChargeParameter: { DC_EVStatus: dcStatus(), EVMaximumCurrentLimit: A(100), EVMaximumVoltageLimit: V(400) } });
  const configTuple = (fromConfig.body!.SAScheduleList as any).SAScheduleTuple[0];
  assert.equal(configTuple.SAScheduleTupleID, 7);
  assert.equal(configTuple.SalesTariff.SalesTariffID, 9);
  assert.equal(configTuple.SalesTariff.SalesTariffDescription, 'night');
  assert.deepEqual(configTuple.SalesTariff.SalesTariffEntry[1], {
    RelativeTimeInterval: { start: 1800, duration: 84600 },
    EPriceLevel: 2,
    ConsumptionCost: [{ startValue: { Multiplier: 0, Unit: 'W', Value: 0 }, Cost: [{ costKind: 'relativePricePercentage', amount: 80 }] }],
  });

  const s = iso2Setup({ config: { schedules: [{ id: 7, entries: [{ start: 0, maxPower: { value: 5, multiplier: 3, unit: 'W' } }] }] } });
  s.bus.publish(ISO2.evse.saSchedules, schedules);
  await toAuthorized(s);
  const res = await s.send('ChargeParameterDiscoveryReq', { ...acChargeParameters, RequestedEnergyTransferMode: 'DC_extended', AC_EVChargeParameter: undefined, DC_EVChargeParameter: { DC_EVStatus: dcStatus(), EVMaximumCurrentLimit: A(100), EVMaximumVoltageLimit: V(400) }, MaxEntriesSAScheduleTuple: 12 });
  const tuples = (res.body!.SAScheduleList as any).SAScheduleTuple;
  assert.deepEqual(tuples.map((t: any) => t.SAScheduleTupleID), [3, 4]);
  assert.deepEqual(tuples[0].PMaxSchedule.PMaxScheduleEntry, [
    { RelativeTimeInterval: { start: 0 }, PMax: { Multiplier: 3, Unit: 'W', Value: 11 } },
    { RelativeTimeInterval: { start: 3600, duration: 3600 }, PMax: { Multiplier: 3, Unit: 'W', Value: 7 } },
  ]);
  assert.equal(tuples[0].SalesTariff, undefined);
  await s.send('CableCheckReq', { DC_EVStatus: dcStatus() });
  await s.send('PreChargeReq', { DC_EVStatus: dcStatus(), EVTargetVoltage: V(380), EVTargetCurrent: A(2) });
  // A profile within schedule 3: 11 kW for the first hour, 7 kW after.
  const ok = await s.send('PowerDeliveryReq', dcStart(3, { ChargingProfile: { ProfileEntry: [{ ChargingProfileEntryStart: 0, ChargingProfileEntryMaxPower: W(11000) }, { ChargingProfileEntryStart: 3600, ChargingProfileEntryMaxPower: W(7000) }] } }));
  assert.equal(ok.responseCode, 'OK');
  assert.equal(s.bus.get(ISO2.session.saScheduleTupleId), 3);
});

test('an invalid schedule on MQTT is logged and the configured one used', async () => {
  const s = iso2Setup({ config: { schedules: [{ id: 7, entries: [{ start: 0, maxPower: { value: 5, multiplier: 3, unit: 'W' } }] }] } });
  // Valid JSON for the registry, but the first entry does not start at 0.
  s.bus.publish(ISO2.evse.saSchedules, [{ id: 2, entries: [{ start: 10, maxPower: { value: 1, multiplier: 3, unit: 'W' } }] }]);
  await toAuthorized(s);
  const res = await s.send('ChargeParameterDiscoveryReq', { RequestedEnergyTransferMode: 'DC_extended', DC_EVChargeParameter: { DC_EVStatus: dcStatus(), EVMaximumCurrentLimit: A(100), EVMaximumVoltageLimit: V(400) } });
  assert.equal((res.body!.SAScheduleList as any).SAScheduleTuple[0].SAScheduleTupleID, 7);
  assert.ok(s.log.lines.some((l) => l.level === 'error' && /first entry must start at 0/.test(String((l.fields.err as Error | undefined)?.message))));
});

test('pause: SessionStop Pause keeps the SessionID; the woken EV joins it (OK_OldSessionJoined) without a new authorization', async () => {
  const first = iso2Setup();
  await toPreCharge(first);
  await first.send('PowerDeliveryReq', dcStart());
  await first.send('PowerDeliveryReq', dcStop);
  await first.send('WeldingDetectionReq', { DC_EVStatus: dcStatus() });
  const pause = await first.send('SessionStopReq', { ChargingSession: 'Pause' });
  assert.equal(pause.responseCode, 'OK');
  assert.equal(pause.paused, true);
  assert.equal(pause.close, true);
  assert.equal(first.bus.get(ISO2.session.paused), true);
  assert.equal(first.bus.get(HLC.session.stopReason), 'EV paused the session');
  const id = first.session.sessionId;

  // The EV wakes up: a new connection on the same bus. The customer's authorization stays
  // (a new session resets ci/hlc/evse/authorization to Ongoing).
  first.bus.publish(HLC.evse.authorization, 'Accepted');
  const second = iso2Setup({ bus: { kernelBus: first.kernelBus, bus: first.bus }, evse: first.evse, previousSessionId: id });
  const { setup, auth } = await toAuthorized(second, id);
  assert.equal(setup.responseCode, 'OK_OldSessionJoined');
  assert.equal(second.session.sessionId, id);
  assert.equal(first.bus.get(ISO2.session.paused), false);
  assert.equal(first.bus.get(HLC.evse.authorization), 'Accepted', 'the resumed session keeps its authorization');
  assert.equal(auth.body!.EVSEProcessing, 'Finished');

  // An unknown non-zero SessionID starts a new session.
  const third = iso2Setup({ previousSessionId: id });
  const fresh = await third.send('SessionSetupReq', { EVCCID: '0465650064c3' }, '1122334455667788');
  assert.equal(fresh.responseCode, 'OK_NewSessionEstablished');
  assert.notEqual(third.session.sessionId, id);
  assert.equal(third.bus.get(HLC.evse.authorization), 'Ongoing', 'a new session waits for a new decision');
});

test('renegotiation triggered by the EVSE (DC): ReNegotiation notified until the EV renegotiates; new schedule without opening the contactors', async () => {
  const s = iso2Setup({ config: { notificationMaxDelayS: 5 } });
  await toPreCharge(s);
  await s.send('PowerDeliveryReq', dcStart());
  assert.equal(((await s.send('CurrentDemandReq', currentDemand())).body!.DC_EVSEStatus as any).EVSENotification, 'None');
  s.bus.publish(ISO2.evse.saSchedules, [{ id: 5, entries: [{ start: 0, maxPower: { value: 30, multiplier: 3, unit: 'W' } }] }]);
  s.bus.publish(ISO2.evse.renegotiate, true);
  const notified = await s.send('CurrentDemandReq', currentDemand());
  assert.deepEqual(notified.body!.DC_EVSEStatus, { EVSEIsolationStatus: 'Valid', EVSEStatusCode: 'EVSE_Ready', NotificationMaxDelay: 5, EVSENotification: 'ReNegotiation' });
  const reneg = await s.send('PowerDeliveryReq', { ChargeProgress: 'Renegotiate', SAScheduleTupleID: 1, DC_EVPowerDeliveryParameter: { DC_EVStatus: dcStatus(), ChargingComplete: false } });
  assert.equal(reneg.responseCode, 'OK');
  assert.equal(s.bus.get(ISO2.session.renegotiation), true);
  const cpd = await s.send('ChargeParameterDiscoveryReq', { RequestedEnergyTransferMode: 'DC_extended', DC_EVChargeParameter: { DC_EVStatus: dcStatus(), EVMaximumCurrentLimit: A(100), EVMaximumVoltageLimit: V(400) } });
  assert.equal((cpd.body!.SAScheduleList as any).SAScheduleTuple[0].SAScheduleTupleID, 5);
  // Straight back to PowerDelivery: no cable check or pre-charge with the contactors closed.
  const old = await s.send('PowerDeliveryReq', dcStart(5));
  assert.equal(old.responseCode, 'OK');
  assert.equal(s.bus.get(ISO2.session.renegotiation), false);
  assert.deepEqual(s.port.calls, ['power:true'], 'contactors neither opened nor closed again');
  const after = await s.send('CurrentDemandReq', currentDemand());
  assert.equal(after.body!.SAScheduleTupleID, 5);
  assert.equal((after.body!.DC_EVSEStatus as any).EVSENotification, 'None', 'the request was consumed');
});

test('a renegotiation request is an event: published before the session it is forgotten at SessionSetup', async () => {
  const s = iso2Setup();
  s.bus.publish(ISO2.evse.renegotiate, true);
  assert.equal(s.bus.get(ISO2.evse.renegotiate), undefined, 'not retained');
  await toPreCharge(s);
  await s.send('PowerDeliveryReq', dcStart());
  assert.equal(((await s.send('CurrentDemandReq', currentDemand())).body!.DC_EVSEStatus as any).EVSENotification, 'None');
});

test('renegotiation triggered by the EV (AC): ChargingStatus → PowerDelivery Renegotiate → ChargeParameterDiscovery → PowerDelivery Start', async () => {
  const s = await iso2SetupAcCharging();
  assert.equal(((await s.send('ChargingStatusReq')).body!.AC_EVSEStatus as any).EVSENotification, 'None');
  assert.equal((await s.send('PowerDeliveryReq', { ChargeProgress: 'Renegotiate', SAScheduleTupleID: 1 })).responseCode, 'OK');
  const cpd = await s.send('ChargeParameterDiscoveryReq', { ...acChargeParameters, AC_EVChargeParameter: { ...acChargeParameters.AC_EVChargeParameter, EVMaxCurrent: A(10) } });
  assert.equal(cpd.body!.EVSEProcessing, 'Finished');
  assert.deepEqual(s.bus.get(ISO2.ev.acMaxCurrent), { value: 10, multiplier: 0, unit: 'A' });
  assert.equal((await s.send('PowerDeliveryReq', { ChargeProgress: 'Start', SAScheduleTupleID: 1 })).responseCode, 'OK');
  assert.deepEqual(s.port.calls, ['power:true']);
  assert.equal((await s.send('ChargingStatusReq')).responseCode, 'OK');
});

test('EVSE stop while charging: StopCharging notification in ChargingStatusRes (AC) and CurrentDemandRes (DC)', async () => {
  const ac = await iso2SetupAcCharging();
  ac.evse.set({ stopCharging: true });
  const status = await ac.send('ChargingStatusReq');
  assert.equal(status.responseCode, 'OK');
  assert.equal((status.body!.AC_EVSEStatus as any).EVSENotification, 'StopCharging');
  const dc = iso2Setup();
  await toPreCharge(dc);
  await dc.send('PowerDeliveryReq', dcStart());
  dc.evse.set({ stopCharging: true });
  const demand = await dc.send('CurrentDemandReq', currentDemand());
  assert.deepEqual([(demand.body!.DC_EVSEStatus as any).EVSEStatusCode, (demand.body!.DC_EVSEStatus as any).EVSENotification], ['EVSE_Shutdown', 'StopCharging']);
});

test('metering receipt: ReceiptRequired once per new meter reading when configured; MeteringReceiptReq answered with the status', async () => {
  const s = iso2Setup({ config: { ...AC_CONFIG, receiptRequired: true } });
  s.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  await toAcCharging(s);
  s.bus.publish(ISO2.evse.meterInfo, { meterId: 'M1', meterReading: 100, tMeter: 1700000000 });
  const status = await s.send('ChargingStatusReq');
  assert.equal(status.body!.ReceiptRequired, true);
  const receipt = await s.send('MeteringReceiptReq', { SessionID: s.session.sessionId, SAScheduleTupleID: 1, MeterInfo: { MeterID: 'M1', MeterReading: 100 } });
  assert.equal(receipt.responseCode, 'OK');
  assert.ok(receipt.body!.AC_EVSEStatus);
  assert.equal((await s.send('ChargingStatusReq')).body!.ReceiptRequired, false);
});
