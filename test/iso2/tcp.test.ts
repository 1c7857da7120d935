/**
 * ISO 15118-2 over real V2GTP connections on ::1 (TCP and TLS): the EV side (Iso2Evcc with the
 * simulator's battery) against the SECC state machine behind a V2gtpServer, with the simulated DC
 * power supply answering on the ci/hlc/evse topics. Covers DC, AC, pause and resume across two
 * connections with the same SessionID, EVSE- and EV-triggered renegotiation, and which protocol
 * the app handshake picks when the EV offers DIN, ISO 15118-2 or both.
 */
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Battery } from '@opensecc/core/sim/index';
import { DinEvcc, HLC, V2gtpClient, type AppProtocolName } from '@opensecc/core/v2g/index';
import { ISO2, Iso2Evcc, SimulatedAcEvse, type Iso2EvccOptions } from '@opensecc/core/v2g/iso2/index';
import { ISO2_PKI, makeTestPki } from '#support/certs.js';
import { startSecc } from './helpers/server.js';

type Secc = Awaited<ReturnType<typeof startSecc>>;

async function runEv(secc: Secc, options: Partial<Iso2EvccOptions> & { battery?: Battery; tlsCa?: Buffer } = {}) {
  const client = await V2gtpClient.connect({ host: '::1', port: secc.port, ...(options.tlsCa ? { tls: { ca: options.tlsCa } } : {}) });
  const battery = options.battery ?? new Battery({ capacityWh: 200, initialSoc: 78, targetSoc: 80 });
  try {
    const result = await new Iso2Evcc({ client, ev: battery, mode: 'dc', pollMs: 10, loopMs: 5, ...options }).run();
    return { result, battery, served: secc.sessions[secc.sessions.length - 1]! };
  } finally {
    client.close();
  }
}

const names = (exchanges: ReadonlyArray<{ request: string; code: string | undefined }>) => {
  const out: string[] = [];
  for (const e of exchanges) {
    const entry = `${e.request}:${e.code}`;
    if (out[out.length - 1] !== entry) out.push(entry);
  }
  return out;
};

/** An EV that charges AC on three phases at up to 16 A. */
class AcBattery extends Battery {
  acLimits() {
    return { maxCurrent: 16, minCurrent: 6, maxVoltage: 400, phases: 3 as const };
  }
}

test('ISO 15118-2 DC over TCP: the full sequence, energy delivered, contactor-free SECC ends stopped', async () => {
  const secc = await startSecc();
  try {
    const { result, battery, served } = await runEv(secc, { departureTimeS: 1800 });
    assert.equal(result.ok, true, result.stopReason);
    assert.equal(result.stopReason, 'target SoC reached');
    assert.equal(result.energyTransferMode, 'DC_extended');
    assert.ok(battery.soc() >= 80);
    await served.closed;
    assert.equal(served.protocol, 'iso15118-2');
    assert.deepEqual(names(served.exchanges), [
      'supportedAppProtocolReq:OK_SuccessfulNegotiation',
      'SessionSetupReq:OK_NewSessionEstablished',
      'ServiceDiscoveryReq:OK',
      'PaymentServiceSelectionReq:OK',
      'AuthorizationReq:OK',
      'ChargeParameterDiscoveryReq:OK',
      'CableCheckReq:OK',
      'PreChargeReq:OK',
      'PowerDeliveryReq:OK',
      'CurrentDemandReq:OK',
      'PowerDeliveryReq:OK',
      'WeldingDetectionReq:OK',
      'SessionStopReq:OK',
    ]);
    assert.equal(secc.bus.get(HLC.session.state), 'stopped');
    assert.equal(secc.bus.get(ISO2.ev.departureTime), 1800);
    assert.ok((secc.bus.get(ISO2.ev.chargingProfile) as unknown[]).length > 0, 'the EV sent a charging profile within the schedule');
  } finally {
    await secc.stop();
  }
});

test('ISO 15118-2 AC over TCP: ChargingStatus loop at the EVSE maximum current, meter info and receipts', async () => {
  const secc = await startSecc({ iso2: { energyTransferModes: ['AC_three_phase_core', 'AC_single_phase_core'], receiptRequired: true } });
  secc.bus.publish(ISO2.evse.acMaxCurrent, { value: 16, multiplier: 0, unit: 'A' });
  secc.bus.publish(ISO2.evse.meterInfo, { meterId: 'SIM-METER', meterReading: 5000 });
  try {
    let startedC = 0;
    const { result, battery, served } = await runEv(secc, {
      mode: 'ac',
      battery: new AcBattery({ capacityWh: 200, initialSoc: 79, targetSoc: 80, speed: 5 }),
      hooks: { afterPowerDeliveryStart: () => startedC++ },
    });
    assert.equal(result.ok, true, result.stopReason);
    assert.equal(result.energyTransferMode, 'AC_three_phase_core');
    assert.equal(startedC, 1);
    assert.ok(battery.energy > 0);
    await served.closed;
    const seen = names(served.exchanges);
    assert.deepEqual(seen.filter((n) => /CableCheck|PreCharge|CurrentDemand|WeldingDetection/.test(n)), [], 'no DC messages');
    assert.ok(seen.includes('ChargingStatusReq:OK'));
    assert.ok(seen.includes('MeteringReceiptReq:OK'), 'the EV answered ReceiptRequired');
    assert.deepEqual(secc.bus.get(ISO2.ev.acMaxCurrent), { value: 160, multiplier: -1, unit: 'A' });
  } finally {
    await secc.stop();
  }
});

test('ISO 15118-2 DC over TLS 1.2 with the SECC certificate chain from the config files', { skip: hasOpenssl() ? false : 'needs the openssl CLI' }, async () => {
  const pki = makeTestPki(ISO2_PKI);
  const secc = await startSecc({ tls: { certFile: pki.certFile, keyFile: pki.keyFile } });
  try {
    const { result } = await runEv(secc, { tlsCa: pki.ca });
    assert.equal(result.ok, true, result.stopReason);
    // A client that trusts another root does not get through the handshake.
    const other = makeTestPki(ISO2_PKI);
    await assert.rejects(V2gtpClient.connect({ host: '::1', port: secc.port, tls: { ca: other.ca } }));
  } finally {
    await secc.stop();
  }
});

test('pause and resume: SessionStop Pause, a new connection joins with the same SessionID and charges on', async () => {
  const secc = await startSecc();
  try {
    const battery = new Battery({ capacityWh: 200, initialSoc: 78, targetSoc: 80 });
    const first = await runEv(secc, { battery, pauseAtSoc: 79 });
    assert.equal(first.result.ok, true, first.result.stopReason);
    assert.equal(first.result.paused, true);
    assert.equal(first.result.stopReason, 'paused');
    await first.served.closed;
    assert.equal(secc.bus.get(ISO2.session.paused), true);
    assert.ok(first.served.exchanges.some((e) => e.request === 'SessionStopReq' && e.code === 'OK'));

    const second = await runEv(secc, { battery, resumeSessionId: first.result.sessionId! });
    assert.equal(second.result.ok, true, second.result.stopReason);
    assert.equal(second.result.joined, true);
    assert.equal(second.result.sessionId, first.result.sessionId);
    assert.equal(second.served.exchanges[1]!.code, 'OK_OldSessionJoined');
    assert.equal(secc.bus.get(ISO2.session.paused), false);
    assert.ok(battery.soc() >= 80);

    // Terminated: the ID is not joined again.
    const third = await runEv(secc, { battery: new Battery({ capacityWh: 200, initialSoc: 79.9, targetSoc: 80 }), resumeSessionId: first.result.sessionId! });
    assert.equal(third.result.joined, false);
    assert.notEqual(third.result.sessionId, first.result.sessionId);
  } finally {
    await secc.stop();
  }
});

test('EVSE-triggered renegotiation: ci/hlc/evse/renegotiate while charging, new schedule taken, session goes on to the target', async () => {
  const secc = await startSecc();
  try {
    let triggered = false;
    const { result, served } = await runEv(secc, {
      battery: new Battery({ capacityWh: 400, initialSoc: 78, targetSoc: 80 }),
      hooks: {
        onResponse: (name) => {
          if (name !== 'CurrentDemandRes' || triggered) return;
          triggered = true;
          secc.bus.publish(ISO2.evse.saSchedules, [{ id: 42, entries: [{ start: 0, maxPower: { value: 60, multiplier: 3, unit: 'W' } }] }]);
          secc.bus.publish(ISO2.evse.renegotiate, true);
        },
      },
    });
    assert.equal(result.ok, true, result.stopReason);
    assert.equal(result.renegotiations, 1);
    await served.closed;
    const requests = served.exchanges.map((e) => e.request);
    assert.equal(requests.filter((r) => r === 'ChargeParameterDiscoveryReq').length >= 2, true);
    assert.equal(requests.filter((r) => r === 'CableCheckReq').length > 0, true);
    const renegotiationAt = requests.lastIndexOf('ChargeParameterDiscoveryReq');
    assert.deepEqual(requests.slice(renegotiationAt - 1, renegotiationAt + 2), ['PowerDeliveryReq', 'ChargeParameterDiscoveryReq', 'PowerDeliveryReq']);
    assert.equal(secc.bus.get(ISO2.session.saScheduleTupleId), 42);
    assert.equal(secc.bus.get(ISO2.session.renegotiation), false);
  } finally {
    await secc.stop();
  }
});

test('EV-triggered renegotiation (AC): PowerDelivery Renegotiate at a planned SoC, session continues', async () => {
  const secc = await startSecc({ iso2: { energyTransferModes: ['AC_three_phase_core'], receiptRequired: true } });
  const acEvse = new SimulatedAcEvse({ bus: secc.bus, maxCurrent: 32, tickMs: 10 });
  acEvse.start();
  try {
    const { result } = await runEv(secc, { mode: 'ac', battery: new AcBattery({ capacityWh: 200, initialSoc: 79, targetSoc: 80, speed: 4 }), renegotiateAtSoc: 79.3 });
    assert.equal(result.ok, true, result.stopReason);
    assert.equal(result.renegotiations, 1);
    assert.ok(result.exchanges.filter((e) => e.request === 'ChargeParameterDiscoveryReq').length >= 2);
    assert.ok(result.exchanges.some((e) => e.request === 'MeteringReceiptReq' && e.code === 'OK'), 'receipts for the simulated meter');
  } finally {
    acEvse.stop();
    await secc.stop();
  }
});

async function handshakeOnly(secc: Secc, protocols: AppProtocolName[]) {
  const client = await V2gtpClient.connect({ host: '::1', port: secc.port });
  try {
    if (protocols.length === 1 && protocols[0] === 'din70121') {
      const result = await new DinEvcc({ client, ev: new Battery({ capacityWh: 200, initialSoc: 79.5, targetSoc: 80 }), pollMs: 10, loopMs: 5 }).run();
      return { ok: result.ok, reason: result.stopReason };
    }
    const result = await new Iso2Evcc({ client, ev: new Battery({ capacityWh: 200, initialSoc: 79.5, targetSoc: 80 }), mode: 'dc', protocols, pollMs: 10, loopMs: 5 }).run();
    return { ok: result.ok, reason: result.stopReason };
  } finally {
    client.close();
  }
}

test('an EV offering only DIN, only ISO 15118-2, or both: the priority from the config decides', async () => {
  const bothSecc = await startSecc({ protocols: ['iso15118-2', 'din70121'], prefer: 'secc' });
  const dinFirst = await startSecc({ protocols: ['din70121', 'iso15118-2'], prefer: 'secc' });
  const evDecides = await startSecc({ protocols: ['din70121', 'iso15118-2'], prefer: 'ev' });
  const dinOnly = await startSecc({ protocols: ['din70121'] });
  try {
    const onlyDin = await handshakeOnly(bothSecc, ['din70121']);
    assert.equal(onlyDin.ok, true, onlyDin.reason);
    assert.equal(bothSecc.sessions.at(-1)!.protocol, 'din70121');

    const onlyIso = await handshakeOnly(bothSecc, ['iso15118-2']);
    assert.equal(onlyIso.ok, true, onlyIso.reason);
    assert.equal(bothSecc.sessions.at(-1)!.protocol, 'iso15118-2');

    // Both offered: with prefer=secc the SECC's order wins over the EV's Priority …
    const secOrder = await handshakeOnly(bothSecc, ['din70121', 'iso15118-2']);
    assert.equal(secOrder.ok, true, secOrder.reason);
    assert.equal(bothSecc.sessions.at(-1)!.protocol, 'iso15118-2');
    const dinPicked = await handshakeOnly(dinFirst, ['iso15118-2', 'din70121']);
    assert.equal(dinFirst.sessions.at(-1)!.protocol, 'din70121');
    assert.match(dinPicked.reason, /not ISO 15118-2/, 'this ISO-only EVCC stops when DIN is chosen');
    // … with prefer=ev the EV's Priority wins.
    const evOrder = await handshakeOnly(evDecides, ['iso15118-2', 'din70121']);
    assert.equal(evOrder.ok, true, evOrder.reason);
    assert.equal(evDecides.sessions.at(-1)!.protocol, 'iso15118-2');

    const refused = await handshakeOnly(dinOnly, ['iso15118-2']);
    assert.equal(refused.ok, false);
    assert.match(refused.reason, /Failed_NoNegotiation/);
  } finally {
    await Promise.all([bothSecc.stop(), dinFirst.stop(), evDecides.stop(), dinOnly.stop()]);
  }
});

function hasOpenssl(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(`${dir}/openssl`));
}
