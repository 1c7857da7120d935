/**
 * Value-added services end to end, separate processes: `secc start --sim` (the built-in vas plugin
 * offering internet access from its config, the embedded MQTT broker) with the sandboxed example
 * plugin docs/examples/vas-example.mjs hot-loaded from the watched plugins directory, and
 * `secc sim ev --protocol iso2 --services …`. The simulated EV discovers, details and selects
 * internet access (https) and the example's custom service; a real MQTT client sees the selection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { runSim, SIM_EV_BATTERY, spawnDaemon, writeConfig } from '#support/daemon.js';
import { freePort, freeUdpPort } from '#support/net.js';

const EXAMPLE = fileURLToPath(new URL('../../../docs/examples/vas-example.mjs', import.meta.url));

/** Resolves with the first value of `topic` that `accept` likes (MQTT, JSON payloads). */
function nextValue<T>(client: mqtt.MqttClient, topic: string, accept: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`timed out waiting for ${what} on ${topic}`));
    }, timeoutMs);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      const value = JSON.parse(payload.toString()) as T;
      if (!accept(value)) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(value);
    };
    client.on('message', onMessage);
  });
}

interface Offered {
  id: number;
  source: string;
}
interface Selection {
  sessionId: string;
  services: Array<{ id: number; name?: string; category: string; parameterSetId?: number; parameters?: unknown[]; source: string }>;
}

test('e2e: the simulated EV discovers, details and selects internet access and a sandboxed plugin’s custom service; the selection is on MQTT', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vas-e2e-'));
  const pluginsDir = join(dir, 'plugins');
  mkdirSync(pluginsDir);
  const mqttPort = await freePort();
  const sdpPort = await freeUdpPort();
  const config = writeConfig(dir, {
    log: { level: 'info' },
    pluginHost: { watch: true, watchDir: pluginsDir, dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
    plugins: {
      'mqtt-broker': { enabled: true, config: { port: mqttPort } },
      'firmware-update': { enabled: false },
      logging: { enabled: false },
      vas: { config: { services: [{ id: 3, free: true }] } },
    },
    charging: { contactorFeedbackTimeoutMs: 500 },
    v2g: { protocols: ['iso15118-2', 'din70121'], sdpPort },
  });
  const daemon = spawnDaemon({ config, args: ['--sim'] });
  let client: mqtt.MqttClient | undefined;
  try {
    await daemon.waitFor(/"msg":"kernel ready"/, 30_000);
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
    const errors: Array<{ topic: string; reason: string }> = [];
    client.on('message', (topic, payload) => {
      if (topic === 'ci/mqtt/error') errors.push(JSON.parse(payload.toString()) as { topic: string; reason: string });
    });
    await client.subscribeAsync(['ci/hlc/evse/offered_services', 'ci/hlc/ev/selected_services', 'ci/mqtt/error']);

    // Hot-load the sandboxed example: its service joins the configured internet access.
    const offeredWithExample = nextValue<Offered[]>(client, 'ci/hlc/evse/offered_services', (v) => v.some((s) => s.id === 60001), 20_000, 'the example plugin’s service');
    copyFileSync(EXAMPLE, join(pluginsDir, 'vas-example.mjs'));
    const offered = await offeredWithExample;
    assert.deepEqual(offered.map((s) => [s.id, s.source]), [[3, 'config'], [60001, 'bus:vas-example']]);
    // The log line may still be in the pipe when the MQTT value arrives.
    for (let i = 0; i < 100 && !/"plugin":"vas-example"|plugin:vas-example/.test(daemon.output()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(daemon.output(), /"plugin":"vas-example"|plugin:vas-example/);

    // An invalid list over MQTT is refused by the registry (ci/mqtt/error) and changes nothing.
    client.publish('ci/hlc/evse/value_added_services', JSON.stringify([{ id: 1 }]));
    const refused = await nextValue<{ topic: string; reason: string }>(client, 'ci/mqtt/error', (e) => e.topic === 'ci/hlc/evse/value_added_services', 10_000, 'the refusal');
    assert.match(refused.reason, /payload/);

    const selectedOnMqtt = nextValue<Selection>(client, 'ci/hlc/ev/selected_services', (v) => v.services.length > 0, 60_000, 'the EV’s selection');
    const sim = await runSim(['--protocol', 'iso2', '--host', '::1', '--sdp-port', String(sdpPort), '--link', join(dir, 'run', 'sim-link.sock'), ...SIM_EV_BATTERY, '--services', '3:4,60001:2'], { settleMs: 0 });
    const { code } = sim;
    const summary = sim.summary as { ok: boolean; session_id: string; sequence: string[]; selected_services: unknown[]; stop_reason: string };
    assert.equal(code, 0, `sim ev failed: ${sim.stdout}\n${sim.stderr}\n${daemon.output().slice(-3000)}`);
    assert.equal(summary.ok, true);
    assert.deepEqual(summary.selected_services, [
      { service_id: 3, parameter_set_id: 4, name: 'InternetAccess' },
      { service_id: 60001, parameter_set_id: 2, name: 'StationInfo' },
    ]);
    const steps = summary.sequence.map((s) => s.replace(/×\d+$/, ''));
    const at = (step: string) => steps.indexOf(step);
    assert.ok(at('ServiceDiscoveryReq:OK') >= 0 && at('ServiceDetailReq:OK') > at('ServiceDiscoveryReq:OK') && at('PaymentServiceSelectionReq:OK') > at('ServiceDetailReq:OK'), steps.join(' '));
    assert.equal(summary.sequence.filter((s) => s.startsWith('ServiceDetailReq:OK')).reduce((n, s) => n + Number(/×(\d+)$/.exec(s)?.[1] ?? 1), 0), 2, 'one ServiceDetail per service');

    const selection = await selectedOnMqtt;
    assert.equal(selection.sessionId, summary.session_id);
    assert.deepEqual(selection.services, [
      { id: 3, name: 'InternetAccess', category: 'Internet', parameterSetId: 4, parameters: [{ name: 'Protocol', stringValue: 'https' }, { name: 'Port', intValue: 443 }], source: 'config' },
      {
        id: 60001,
        name: 'StationInfo',
        category: 'OtherCustom',
        parameterSetId: 2,
        parameters: [{ name: 'Language', stringValue: 'de' }, { name: 'MaxPower', physicalValue: { value: 150, multiplier: 3, unit: 'W' } }],
        source: 'bus:vas-example',
      },
    ]);
    assert.ok(errors.every((e) => e.topic === 'ci/hlc/evse/value_added_services'), JSON.stringify(errors));
    // The sandboxed example saw its selection too (its log line, from inside the isolate).
    assert.match(daemon.output(), /EV selected StationInfo/);
  } finally {
    await client?.endAsync();
    await daemon.stop();
  }
});
