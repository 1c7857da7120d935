/**
 * `secc start --demo --control can` as a user runs it: the charge process is driven over the
 * (virtual) CAN bus by the CAN plugin's simulated controller, the bus-side simulated supply is off,
 * and the MQTT API refuses writes of the EVSE topics CAN now controls. A whole DIN 70121 DC
 * session must complete. (This kernel has no CAN; the virtual bus is the transport here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { spawnDaemon, writeConfig } from '#support/daemon.js';
import { freePort } from '#support/net.js';

test('secc start --demo --control can: a whole DC session driven over the virtual CAN bus', async (t) => {
  t.diagnostic('no CAN in this kernel: the virtual CAN bus carries the frames');
  const dir = mkdtempSync(join(tmpdir(), 'secc-control-can-'));
  const mqttPort = await freePort();
  const sdpPort = await freePort();
  const config = writeConfig(dir, {
    pluginHost: { watch: false, watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
    plugins: { 'mqtt-broker': { config: { port: mqttPort } }, 'firmware-update': { enabled: false }, logging: { enabled: false } },
    v2g: { sdpPort },
  });
  const daemon = spawnDaemon({ config, args: ['--demo', '--control', 'can'], cwd: dir });
  t.after(() => void daemon.stop('SIGKILL'));
  await daemon.until('kernel ready', () => daemon.stdout().includes('"msg":"kernel ready"'), 30000);

  // The EVSE topics are CAN's now: a write over MQTT is refused and reported.
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
  t.after(() => void client.end(true));
  const errors: Array<{ topic: string; reason: string }> = [];
  client.on('message', (topic, payload) => {
    if (topic === 'ci/mqtt/error') errors.push(JSON.parse(payload.toString()) as { topic: string; reason: string });
  });
  await client.subscribeAsync('ci/mqtt/error');
  await client.publishAsync('ci/hlc/evse/stop_charging', 'true');
  await daemon.until('the refusal on ci/mqtt/error', () => errors.some((e) => e.topic === 'ci/hlc/evse/stop_charging'), 10000);
  assert.match(errors.find((e) => e.topic === 'ci/hlc/evse/stop_charging')!.reason, /read-only over MQTT/);

  await daemon.until('a complete session', () => /session complete: .*"stop_reason":"target SoC reached"/.test(daemon.stderr()), 120000);
  assert.match(daemon.stdout(), /"component":"plugin:can"/, 'the CAN plugin ran');
  assert.doesNotMatch(daemon.stdout(), /"component":"sim-dc-supply"/, 'the bus-side simulated supply was off');
  assert.equal(await daemon.stop(), 0);
});
