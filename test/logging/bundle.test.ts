import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { supportBundleCommand } from '@opensecc/core/cli/commands/support-bundle';
import { softwareVersion } from '@opensecc/core/kernel/version';
import { isSecretKey, redactSecrets, REDACTED } from '@opensecc/core/trace/redact';
import { tarBuffer } from '@opensecc/core/trace/tar';
import { captureIO, fixtureRecords, missingTool, tempDir } from './harness.js';

const noTar = missingTool('tar', 'the system tar reads the bundle');

const SECRETS = ['hunter2-S3cret', 'tok_9f8e7d6c5b4a', 'correct horse battery staple', 'nmk-0011223344556677'];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

test('support-bundle: one tar.gz with version, redacted config, logs and traces, and no secret anywhere', { skip: noTar }, async () => {
  const dir = tempDir();
  const logDir = join(dir, 'log');
  mkdirSync(logDir);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    pluginHost: { watch: false, runDir: join(dir, 'run'), dataDir: join(dir, 'data'), watchDir: join(dir, 'plugins') },
    board: { type: 'simulated', privateKeyPassword: SECRETS[2] },
    plugins: {
      logging: { config: { dir: logDir, redactKeys: ['nmk'] } },
      'mqtt-api': { enabled: false, config: { broker: { username: 'charger', password: SECRETS[0] }, apiToken: SECRETS[1] } },
      'vas-example': { config: { station: { NMK: SECRETS[3] }, port: 1883 } },
    },
  }, null, 2));
  mkdirSync(join(dir, 'run'));
  writeFileSync(join(dir, 'run', 'plugins.json'), JSON.stringify({ pid: 1, plugins: [] }));
  // A careless plugin logged its broker password; the MQTT trace saw the token.
  writeFileSync(join(logDir, 'opensecc.log'), `{"level":30,"component":"plugin:mqtt-api","msg":"connecting","password":"${SECRETS[0]}"}\n`);
  writeFileSync(join(logDir, 'opensecc.log.1'), '{"level":30,"component":"kernel","msg":"kernel ready"}\n');
  writeFileSync(join(logDir, 'mqtt.log'), `1700000000.000000000 ext/token ${SECRETS[1]}\n`);
  writeFileSync(join(logDir, 'can.log'), '(1700000000.000000) can0 7DF#0201050000000000\n');
  writeFileSync(join(logDir, 'slac.ndjson'), '{"at":1,"direction":"rx","hex":"ffff"}\n');
  writeFileSync(join(logDir, 'v2g.ndjson'), fixtureRecords().map((r) => JSON.stringify(r)).join('\n') + '\n');

  const out = join(dir, 'bundle.tar.gz');
  const io = captureIO();
  assert.equal(await supportBundleCommand.run(['--out', out, '--config', configFile], io), 0, io.err.text);
  assert.match(io.out.text, /secret value\(s\) redacted/);

  const extracted = join(dir, 'x');
  mkdirSync(extracted);
  const tar = spawnSync('tar', ['-xzf', out, '-C', extracted], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  const files = walk(extracted).map((p) => relative(extracted, p)).sort();
  assert.deepEqual(files, [
    'MANIFEST.json',
    'config/effective.json',
    'config/operator.json',
    'logs/opensecc.log',
    'logs/opensecc.log.1',
    'run/plugins.json',
    'traces/can.log',
    'traces/mqtt.log',
    'traces/slac.ndjson',
    'traces/v2g.ndjson',
    'traces/v2g.pcapng',
    'version.json',
  ]);
  const version = JSON.parse(readFileSync(join(extracted, 'version.json'), 'utf8')) as { charging_software: string };
  assert.equal(version.charging_software, softwareVersion());
  const effective = JSON.parse(readFileSync(join(extracted, 'config/effective.json'), 'utf8')) as any;
  assert.equal(effective.plugins['mqtt-api'].config.broker.password, REDACTED);
  assert.equal(effective.plugins['mqtt-api'].config.broker.username, 'charger', 'non-secret values stay');
  assert.equal(effective.plugins['mqtt-api'].config.apiToken, REDACTED);
  assert.equal(effective.plugins['vas-example'].config.station.NMK, REDACTED);
  assert.equal(effective.plugins['vas-example'].config.port, 1883);
  assert.equal(effective.board.privateKeyPassword, REDACTED);
  assert.equal(effective.log.level, 'info', 'defaults are part of the effective config');
  assert.equal(readFileSync(join(extracted, 'traces/v2g.ndjson'), 'utf8').trim().split('\n').length, 140);
  assert.equal(readFileSync(join(extracted, 'traces/v2g.pcapng')).readUInt32LE(0), 0x0a0d0d0a);
  assert.match(readFileSync(join(extracted, 'logs/opensecc.log'), 'utf8'), /"password":"\[REDACTED\]"/);

  for (const file of files) {
    const content = readFileSync(join(extracted, file), 'latin1');
    for (const secret of SECRETS) assert.ok(!content.includes(secret), `${file} contains the secret '${secret}'`);
  }
});

test('support-bundle without --out is bad usage', async () => {
  await assert.rejects(supportBundleCommand.run([], captureIO()), /missing --out/);
});

test('secret keys: the usual names are secrets, public material and ordinary settings are not', () => {
  for (const key of ['password', 'mqttPassword', 'passphrase', 'client_secret', 'apiToken', 'key', 'tlsKey', 'private_key', 'NMK', 'pin']) assert.ok(isSecretKey(key), key);
  for (const key of ['keyring', 'publicKey', 'keyId', 'username', 'port', 'maxFiles', 'keepAlive', 'mapping']) assert.ok(!isSecretKey(key), key);
  const { value, secrets } = redactSecrets({ a: [{ token: { nested: 'abcd1234' } }], keepAlive: 60, password: '' });
  assert.deepEqual(value, { a: [{ token: REDACTED }], keepAlive: 60, password: '' });
  assert.deepEqual(secrets, ['abcd1234']);
});

test('the tar writer splits long names into ustar prefix + name', { skip: noTar }, () => {
  const dir = tempDir();
  const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/file-${'f'.repeat(80)}.txt`;
  writeFileSync(join(dir, 'a.tar'), tarBuffer([{ name: long, data: Buffer.from('hello\n') }, { name: 'empty', data: Buffer.alloc(0) }]));
  const list = spawnSync('tar', ['-tvf', join(dir, 'a.tar')], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.ok(list.stdout.includes(long));
  const content = spawnSync('tar', ['-xOf', join(dir, 'a.tar'), long], { encoding: 'utf8' });
  assert.equal(content.stdout, 'hello\n');
});
