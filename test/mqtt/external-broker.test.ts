/** The MQTT API against an external broker that needs TLS and a username/password (Mosquitto). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connectAsync } from 'mqtt';
import { MOSQUITTO, startMosquitto } from './support/brokers.js';
import { startStack } from './support/stack.js';
import { waitUntil } from './support/observer.js';
import { MOSQUITTO_PASSWD, OPENSSL, makeTlsFixture } from './support/tls-fixture.js';

const skip = MOSQUITTO && OPENSSL && MOSQUITTO_PASSWD ? false : 'needs mosquitto, mosquitto_passwd and openssl';

test('connects over TLS with username and password; a wrong password is retried and logged, never thrown', { skip }, async () => {
  const tls = makeTlsFixture();
  const broker = await startMosquitto(
    [`cafile ${tls.caCert}`, `certfile ${tls.serverCert}`, `keyfile ${tls.serverKey}`, 'allow_anonymous false', `password_file ${tls.passwordFile}`],
    'mqtts',
  );
  try {
    // CA given as a file path; the PEM text works as well (second stack).
    const good = await startStack(broker.url, { username: tls.username, password: tls.password, tls: { ca: tls.caCert, rejectUnauthorized: true } });
    const pemGood = await startStack(broker.url, { clientId: 'pem', username: tls.username, password: tls.password, tls: { ca: readFileSync(tls.caCert, 'utf8'), rejectUnauthorized: true } });
    const bad = await startStack(broker.url, { clientId: 'bad', username: tls.username, password: 'wrong', tls: { ca: tls.caCert, rejectUnauthorized: true } });
    try {
      await good.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
      await pemGood.mqtt.api.whenConnected(AbortSignal.timeout(10_000));
      const app = await connectAsync(broker.url, { username: tls.username, password: tls.password, ca: readFileSync(tls.caCert) });
      try {
        const version = new Promise<string>((resolve) => app.on('message', (topic, payload) => topic === 'ci/global/version/charging_software' && resolve(payload.toString())));
        await app.subscribeAsync('ci/global/version/charging_software');
        assert.equal(await version, good.bus.get('ci/global/version/charging_software'));
      } finally {
        await app.endAsync();
      }
      await waitUntil('the refused client retried', () => bad.mqtt.api.status().failedAttempts >= 2);
      assert.equal(bad.mqtt.api.status().connected, false);
      const warning = bad.mqtt.logLines.find((l) => l.msg === 'MQTT connection error');
      assert.ok(warning, 'the refusal is logged');
      assert.match(String(warning.err), /not authori[sz]ed|bad user name or password/i);
    } finally {
      await Promise.all([good.stop(), pemGood.stop(), bad.stop()]);
    }
  } finally {
    await broker.stop();
  }
});

test('a TLS option that names a missing file is a clear error at start', async () => {
  await assert.rejects(
    () => startStack('mqtts://127.0.0.1:1', { tls: { ca: '/nonexistent/ca.pem', rejectUnauthorized: true } }),
    /plugins\.mqtt-api\.config\.tls\.ca: cannot read PEM file '\/nonexistent\/ca\.pem' \(ENOENT\)/,
  );
});
