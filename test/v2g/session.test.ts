/**
 * A whole DIN 70121 DC session in one process with real parts: the V2G service on ::1 (SDP over UDP,
 * V2GTP over TCP, once over TLS), the IEC 61851 controller on the simulated board, the simulated DC
 * power supply answering on the ci/hlc/evse topics, and the simulated EV (battery, EVCC, its control
 * pilot on the same simulated board).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedBoard, SimulatedEv } from '@opensecc/core/hal/index';
import { Iec61851Controller, iec61851Topics } from '@opensecc/core/iec61851/index';
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import { runEvSimulation, SimulatedDcPowerSupply } from '@opensecc/core/sim/index';
import { HLC, HLC_TOPICS, V2gService, type V2gConfig } from '@opensecc/core/v2g/index';
import { makeTestPki } from '#support/certs.js';
import { DIN_DC_SEQUENCE, withoutRepeats } from '#support/sequences.js';
import { recordingLogger } from '#support/log.js';

async function runSession(config: Partial<V2gConfig>, options: { tls?: boolean; ca?: Buffer; unplugAt?: string } = {}) {
  const registry = new TopicRegistry();
  registry.add('v2g', HLC_TOPICS);
  registry.add('iec61851', iec61851Topics);
  const kernelBus = new KernelBus({ validate: (t, v) => registry.validate(t, v), retainPolicy: (t) => registry.retained(t) });
  const seen: Array<{ topic: string; value: unknown }> = [];
  kernelBus.subscribe('ci/#', (m) => seen.push({ topic: m.topic, value: m.value }));
  const log = recordingLogger();
  const board = new SimulatedBoard({ contactorDelayMs: 5, plugLockDelayMs: 5 });
  const controller = new Iec61851Controller({ board, bus: kernelBus.view({ kind: 'kernel', name: 'iec61851' }), log });
  const supply = new SimulatedDcPowerSupply({ bus: kernelBus.view({ kind: 'kernel', name: 'sim' }), voltageRampPerS: 2000, currentRampPerS: 2000, isolationTestMs: 50 });
  const service = new V2gService({ bus: kernelBus.view({ kind: 'kernel', name: 'v2g' }), log, host: '::1', sdpPort: 0, port: controller, config: { port: 0, tlsPort: 0, autoAuthorize: true, ...config } });
  const ev = new SimulatedEv(board);
  const contactorWhileCharging: boolean[] = [];
  service.on({
    state: (s) => {
      if (s === 'charging') contactorWhileCharging.push(board.contactorIsClosed);
      if (s === 'charging' && options.unplugAt === 'charging') setTimeout(() => ev.unplug(), 30);
    },
  });
  await controller.start();
  supply.start();
  await service.start();
  const sdpPort = (service as unknown as { sdp: { port: number } }).sdp.port;
  try {
    const summary = await runEvSimulation({
      protocol: 'din',
      host: '::1',
      sdpPort,
      tls: options.tls ?? false,
      ...(options.ca ? { tlsCa: options.ca } : {}),
      battery: { initialSoc: 78, targetSoc: 80, capacityWh: 200, speed: 1 },
      pilot: ev,
      log,
      pollMs: 20,
      loopMs: 10,
    });
    await new Promise((r) => setTimeout(r, 50));
    return { summary, board, seen, kernelBus, contactorWhileCharging, log };
  } finally {
    await service.stop();
    supply.stop();
    ev.unplug();
    await controller.stop();
  }
}

test('DIN DC session over TCP: SDP, app handshake, full sequence, contactors closed while charging and open at the end', async () => {
  const { summary, board, seen, kernelBus, contactorWhileCharging } = await runSession({ security: 'none' });
  assert.equal(summary.ok, true, summary.stop_reason);
  assert.equal(summary.stop_reason, 'target SoC reached');
  assert.ok(summary.final_soc >= 80);
  assert.ok(summary.energy_wh > 0);
  const names = withoutRepeats(summary.sequence);
  assert.deepEqual(
    names.filter((n, i) => names.indexOf(n) === i),
    DIN_DC_SEQUENCE,
  );
  // control pilot: 5 % PWM was offered; contactor closed during charging, open now
  assert.ok(board.commands.some((c) => c.kind === 'cp' && c.output.kind === 'pwm' && c.output.dutyPercent === 5));
  assert.deepEqual(contactorWhileCharging, [true]);
  assert.equal(board.contactorIsClosed, false);
  // the bus carried the EV's and the session's data
  const states = seen.filter((m) => m.topic === HLC.session.state).map((m) => m.value);
  for (const s of ['session_setup', 'authorization', 'cable_check', 'pre_charge', 'charging', 'welding_detection', 'stopped']) assert.ok(states.includes(s), `state ${s} in ${states.join(',')}`);
  assert.equal(kernelBus.get(HLC.ev.evccid), '02005e0a0b0c');
  assert.ok((kernelBus.get<number>(HLC.ev.soc) ?? 0) >= 79);
  assert.equal(kernelBus.get(HLC.session.protocol), 'din70121');
  assert.equal(kernelBus.get(HLC.session.stopReason), 'EV requested SessionStop');
  assert.ok(seen.some((m) => m.topic === 'ci/contactor/state' && m.value === 'closed'));
  assert.equal(kernelBus.get('ci/contactor/state'), 'open');
});

test('DIN DC session over TLS 1.2 with a certificate from files', async () => {
  const pki = makeTestPki();
  const { summary, board } = await runSession({ security: 'tls', tls: { certFile: pki.certFile, keyFile: pki.keyFile } }, { tls: true, ca: pki.ca });
  assert.equal(summary.ok, true, summary.stop_reason);
  assert.equal(summary.security, 'tls');
  assert.equal(board.contactorIsClosed, false);
});

test('unplugging while charging ends the session: contactors open, connection closed, the reason on the bus', async () => {
  const { summary, board, kernelBus, seen } = await runSession({ security: 'none' }, { unplugAt: 'charging' });
  assert.equal(summary.ok, false);
  assert.match(summary.stop_reason, /closed by the SECC|no response/);
  assert.equal(board.contactorIsClosed, false);
  assert.equal(kernelBus.get(HLC.session.stopReason), 'EV unplugged (CP state A)');
  const states = seen.filter((m) => m.topic === HLC.session.state).map((m) => m.value);
  assert.deepEqual(states.slice(states.indexOf('charging') + 1), ['error', 'idle']); // idle: the service stopped afterwards
});

test('an EV that goes silent after SessionSetup is dropped by V2G_SECC_Sequence_Timeout', async () => {
  const { V2gtpClient, appProtocolRequest } = await import('@opensecc/core/v2g/index');
  const { encode } = await import('@opensecc/exi-codec');
  const registry = new TopicRegistry();
  registry.add('v2g', HLC_TOPICS);
  const kernelBus = new KernelBus({ validate: (t, v) => registry.validate(t, v) });
  const log = recordingLogger();
  const service = new V2gService({ bus: kernelBus.view({ kind: 'kernel', name: 'v2g' }), log, host: '::1', sdp: false, config: { port: 0, timeouts: { communicationSetupMs: 5000, sequenceMs: 150, ongoingMs: 60000 } } });
  await service.start();
  try {
    const client = await V2gtpClient.connect({ host: '::1', port: service.tcpPort! });
    await client.request(encode('apphand', appProtocolRequest(['din70121'])), 1000);
    await client.request(encode('din', { V2G_Message: { Header: { SessionID: '0000000000000000' }, Body: { SessionSetupReq: { EVCCID: '010203040506' } } } }), 1000);
    await assert.rejects(client.receive(2000), /closed by the SECC/);
    assert.equal(kernelBus.get(HLC.session.stopReason), 'V2G_SECC_Sequence_Timeout expired');
    // the service takes the next EV at once
    const next = await V2gtpClient.connect({ host: '::1', port: service.tcpPort! });
    const res = await next.request(encode('apphand', appProtocolRequest(['din70121'])), 1000);
    assert.ok(res.payload.length > 0);
    next.close();
  } finally {
    await service.stop();
  }
});
