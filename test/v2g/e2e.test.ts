/**
 * The daemon and the EV simulator as separate processes over TCP (and once over TLS) through a
 * complete DIN 70121 DC session: SDP on ::1, V2GTP, the simulated board's control pilot and
 * contactor, the simulated DC supply, and the MQTT API (embedded broker) carrying the session's topics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { makeTestPki } from '#support/certs.js';
import { runSim, SIM_EV_BATTERY, spawnDaemon, writeConfig } from '#support/daemon.js';
import { freePort } from '#support/net.js';
import { DIN_DC_SEQUENCE, withoutRepeats } from '#support/sequences.js';

async function session(v2g: Record<string, unknown>, simArgs: string[], duringCharging?: (client: mqtt.MqttClient) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'v2g-e2e-'));
  const mqttPort = await freePort();
  // Other daemons in the suite may run at the same time on ::1: SDP on a port of this test's own.
  const sdpPort = await freePort();
  const config = writeConfig(dir, {
    log: { level: 'info' },
    pluginHost: { watch: false, dataDir: join(dir, 'data'), runDir: join(dir, 'run'), watchDir: join(dir, 'plugins') },
    plugins: { 'mqtt-broker': { enabled: true, config: { port: mqttPort } }, 'firmware-update': { enabled: false }, logging: { enabled: false } },
    charging: { contactorFeedbackTimeoutMs: 500 },
    v2g: { sdpPort, ...v2g },
  });
  const daemon = spawnDaemon({ config, args: ['--sim'] });
  try {
    await daemon.waitFor(/"msg":"kernel ready"/, 20000);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
    const seen: Array<{ topic: string; payload: string }> = [];
    let charging = false;
    client.on('message', (topic, payload) => {
      seen.push({ topic, payload: payload.toString() });
      if (!charging && topic === 'ci/hlc/session/state' && payload.toString() === 'charging') {
        charging = true;
        duringCharging?.(client);
      }
    });
    await client.subscribeAsync(['ci/hlc/#', 'ci/contactor/state', 'ci/cp/state']);
    const sim = await runSim(['--protocol', 'din', '--host', '::1', ...SIM_EV_BATTERY, '--link', join(dir, 'run', 'sim-link.sock'), '--sdp-port', String(sdpPort), ...simArgs]);
    await client.endAsync();
    return { code: sim.code, summary: sim.summary, seen, simErr: sim.stderr, daemonLog: daemon.output };
  } finally {
    await daemon.stop();
  }
}

function check(result: Awaited<ReturnType<typeof session>>) {
  const { code, summary, seen } = result;
  assert.equal(code, 0, `sim exit code; summary ${JSON.stringify(summary)}\n${result.simErr}\n${result.daemonLog().slice(-4000)}`);
  assert.equal(summary.ok, true);
  assert.equal(summary.stop_reason, 'target SoC reached');
  const sequence = withoutRepeats(summary.sequence as string[]);
  assert.deepEqual([...new Set(sequence)], DIN_DC_SEQUENCE);
  const values = (topic: string) => seen.filter((m) => m.topic === topic).map((m) => m.payload);
  const states = values('ci/hlc/session/state');
  for (const s of ['session_setup', 'authorization', 'charge_parameter_discovery', 'cable_check', 'pre_charge', 'charging', 'welding_detection', 'stopped']) assert.ok(states.includes(s), `MQTT ci/hlc/session/state ${s} in ${states.join(',')}`);
  assert.deepEqual(values('ci/hlc/ev/evccid').slice(-1), ['02005e0a0b0c']);
  assert.ok(values('ci/hlc/ev/soc').map(Number).some((soc) => soc >= 79));
  const target = JSON.parse(values('ci/hlc/ev/target_current').at(-1)!) as { value: number; multiplier: number; unit: string };
  assert.equal(target.unit, 'A');
  const targetVoltage = values('ci/hlc/ev/target_voltage').map((p) => JSON.parse(p) as { value: number; multiplier: number; unit: string });
  assert.ok(targetVoltage.some((v) => v.unit === 'V' && v.value * 10 ** v.multiplier > 300), 'the EV target voltage (> 300 V) reached MQTT as a physical value');
  // the control pilot went through the simulated link: B (plugged in), C (charging), back to A
  const cp = values('ci/cp/state');
  assert.ok(cp.includes('B') && cp.includes('C'), `CP states ${cp.join(',')}`);
  assert.equal(cp.at(-1), 'A');
  assert.match(result.daemonLog(), /"component":"slac".*"state":"matched"/);
  const contactor = values('ci/contactor/state');
  assert.ok(contactor.includes('closed'), `contactor states ${contactor.join(',')}; topics seen: ${[...new Set(seen.map((m) => m.topic))].join(' ')}\n${result.daemonLog().split('\n').filter((l) => /contactor|iec61851|cp/.test(l)).slice(0, 30).join('\n')}`);
  assert.equal(contactor.at(-1), 'open');
}

test('secc start --sim and secc sim ev --protocol din as separate processes over TCP: complete DC session', { timeout: 60000 }, async () => {
  check(await session({ security: 'none' }, []));
});

test('the same over TLS 1.2', { timeout: 60000 }, async () => {
  const pki = makeTestPki();
  const result = await session({ security: 'tls', tls: { certFile: pki.certFile, keyFile: pki.keyFile } }, ['--tls', '--ca', pki.caFile]);
  check(result);
  assert.equal(result.summary.security, 'tls');
});

test('stop charging from the EVSE side over MQTT: the EV is told, stops in order, contactors open', { timeout: 60000 }, async () => {
  const result = await session({ security: 'none' }, ['--soc', '20', '--target-soc', '90'], (client) => {
    setTimeout(() => void client.publishAsync('ci/hlc/evse/stop_charging', 'true'), 300);
  });
  assert.equal(result.code, 1, 'the EV did not reach its target: exit code 1');
  assert.equal(result.summary.stop_reason, 'EVSE stopped charging');
  const sequence = withoutRepeats(result.summary.sequence as string[]);
  assert.deepEqual(sequence.slice(-4), ['CurrentDemandReq:OK', 'PowerDeliveryReq:OK', 'WeldingDetectionReq:OK', 'SessionStopReq:OK']);
  const contactor = result.seen.filter((m) => m.topic === 'ci/contactor/state').map((m) => m.payload);
  assert.equal(contactor.at(-1), 'open');
});
