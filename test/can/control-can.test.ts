/**
 * `secc start --demo --control can` as a user runs it: the charge process is driven over the
 * (virtual) CAN bus by the CAN plugin's simulated controller, the bus-side simulated supply is off,
 * and the MQTT API refuses writes of the EVSE topics CAN now controls. A whole DIN 70121 DC
 * session must complete. (This kernel has no CAN; the virtual bus is the transport here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const SECC = fileURLToPath(new URL('../../../bin/secc.js', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('secc start --demo --control can: a whole DC session driven over the virtual CAN bus', async (t) => {
  t.diagnostic('no CAN in this kernel: the virtual CAN bus carries the frames');
  const dir = mkdtempSync(join(tmpdir(), 'secc-control-can-'));
  const mqttPort = await freePort();
  const sdpPort = await freePort();
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pluginHost: { watch: false, watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
      plugins: { 'mqtt-broker': { config: { port: mqttPort } }, 'firmware-update': { enabled: false }, logging: { enabled: false } },
      v2g: { sdpPort },
    }),
  );
  const daemon = spawn(process.execPath, [SECC, 'start', '--demo', '--control', 'can', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void daemon.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  daemon.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  daemon.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const waitFor = (what: string, check: () => boolean, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const start = Date.now();
      const poll = setInterval(() => {
        if (check()) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - start > ms || daemon.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`no ${what}; demo output:\n${stderr.slice(-3000)}\nlog:\n${stdout.slice(-3000)}`));
        }
      }, 100);
    });
  await waitFor('kernel ready', () => stdout.includes('"msg":"kernel ready"'), 30000);

  // The EVSE topics are CAN's now: a write over MQTT is refused and reported.
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
  t.after(() => void client.end(true));
  const errors: Array<{ topic: string; reason: string }> = [];
  client.on('message', (topic, payload) => {
    if (topic === 'ci/mqtt/error') errors.push(JSON.parse(payload.toString()) as { topic: string; reason: string });
  });
  await client.subscribeAsync('ci/mqtt/error');
  await client.publishAsync('ci/hlc/evse/stop_charging', 'true');
  await waitFor('the refusal on ci/mqtt/error', () => errors.some((e) => e.topic === 'ci/hlc/evse/stop_charging'), 10000);
  assert.match(errors.find((e) => e.topic === 'ci/hlc/evse/stop_charging')!.reason, /read-only over MQTT/);

  await waitFor('a complete session', () => /session complete: .*"stop_reason":"target SoC reached"/.test(stderr), 120000);
  assert.match(stdout, /"component":"plugin:can"/, 'the CAN plugin ran');
  assert.doesNotMatch(stdout, /"component":"sim-dc-supply"/, 'the bus-side simulated supply was off');
  daemon.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => daemon.on('close', resolve));
  assert.equal(code, 0);
});
