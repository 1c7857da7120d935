// The pieces on their own: seed value rules, URL handling, rauc output parsing, the bootloader
// model (in TS and as rauc's shell backend), simulated bundle signatures, topics and config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import plugin, {
  createSimulatedBundle,
  customBackendScript,
  FileBootloader,
  FIRMWARE_TOPICS,
  isCasyncUrl,
  normalizeIntervalSeconds,
  normalizeMaxTrials,
} from '@opensecc/plugin-firmware-update';
import { parseRaucInfo, parseRaucStatus } from '@opensecc/plugin-firmware-update/backend/rauc';
import { openSimulatedBundle } from '@opensecc/plugin-firmware-update/backend/simulated-bundle';
import { CONFIG_SCHEMA, withDefaults } from '@opensecc/plugin-firmware-update/config';
import { download, parseDownloadUrl, redactUrl } from '@opensecc/plugin-firmware-update/download/index';
import { writeFileAtomic } from '@opensecc/plugin-firmware-update/atomic-file';

const tmp = () => mkdtempSync(join(tmpdir(), 'fw-unit-'));

test('max_trials: 1, below 1, empty string and unset all mean 1 (seed 7.5)', () => {
  for (const v of [1, 0, -3, '', undefined, 'x', 2.5]) assert.equal(normalizeMaxTrials(v), 1, String(v));
  assert.equal(normalizeMaxTrials(4), 4);
  assert.equal(normalizeMaxTrials('4'), 4);
});

test('interval: 0, negative, empty string and unset all mean 0 seconds', () => {
  for (const v of [0, -1, '', undefined, null]) assert.equal(normalizeIntervalSeconds(v), 0, String(v));
  assert.equal(normalizeIntervalSeconds(30), 30);
});

test('casync is decided by the URL path ending in .raucb', () => {
  assert.equal(isCasyncUrl('http://h/fw/update.raucb'), true);
  assert.equal(isCasyncUrl('https://u:p@h/update.raucb?token=abc'), true);
  assert.equal(isCasyncUrl('ftp://h/update.raucb'), true);
  assert.equal(isCasyncUrl('http://h/update.image'), false);
  assert.equal(isCasyncUrl('http://h/update.raucb.image'), false);
});

test('URLs: credentials never reach messages, bad schemes are named', () => {
  assert.equal(redactUrl('http://user:secret@h:8080/a.image'), 'http://***:***@h:8080/a.image');
  assert.equal(redactUrl('http://h/a.image'), 'http://h/a.image');
  assert.throws(() => parseDownloadUrl('file:///etc/passwd'), /unsupported URL scheme 'file'/);
  assert.throws(() => parseDownloadUrl('::'), /not a valid URL/);
});

// What rauc 1.8 printed on a test system (file-backed slots, B installed, A booted).
const RAUC_STATUS = JSON.stringify({
  compatible: 'opensecc-test',
  variant: '',
  booted: 'A',
  boot_primary: 'rootfs.1',
  slots: [
    { 'rootfs.1': { class: 'rootfs', bootname: 'B', state: 'inactive', boot_status: 'bad', slot_status: { bundle: { compatible: 'opensecc-test', version: '1.2.3' }, checksum: { sha256: '8009c0e3', size: 100000 } } } },
    { 'rootfs.0': { class: 'rootfs', bootname: 'A', state: 'booted', boot_status: 'good', slot_status: { bundle: { compatible: null } } } },
  ],
});

test('rauc status JSON: booted and primary as boot names, per-slot status and image checksum', () => {
  const status = parseRaucStatus(RAUC_STATUS);
  assert.equal(status.booted, 'A');
  assert.equal(status.primary, 'B');
  assert.deepEqual(status.slots.find((s) => s.bootname === 'B'), { bootname: 'B', bootStatus: 'bad', bundleHash: '8009c0e3', bundleVersion: '1.2.3' });
  assert.equal(status.slots.find((s) => s.bootname === 'A')?.bundleHash, undefined);
  assert.throws(() => parseRaucStatus('Connection to the system bus failed'), /no valid JSON/);
});

test('rauc info JSON: the bundle is identified by its image checksums', () => {
  const info = parseRaucInfo(
    JSON.stringify({ compatible: 'opensecc-test', version: '1.2.3', images: [{ rootfs: { filename: 'rootfs.img', checksum: '8009c0e3', size: 100000 } }] }),
  );
  assert.deepEqual(info, { hash: '8009c0e3', version: '1.2.3', compatible: 'opensecc-test' });
});

test('bootloader model: a new primary gets its attempts; never marked good, it falls back', () => {
  const dir = tmp();
  try {
    const boot = new FileBootloader(join(dir, 'env'), { defaultAttempts: 1 });
    boot.init();
    assert.equal(boot.boot(), 'A');
    boot.setState('A', 'good'); // the running system confirms itself
    boot.setState('B', 'bad'); // rauc: target marked bad while it is written
    boot.setPrimary('B'); // rauc: then made primary
    assert.equal(boot.primary(), 'B');
    assert.equal(boot.boot(), 'B');
    assert.equal(boot.state('B'), 'bad', 'the one attempt is used up');
    assert.equal(boot.boot(), 'A', 'fallback to the previous slot');
    boot.setState('A', 'good');
    boot.setPrimary('B');
    assert.equal(boot.boot(), 'B');
    boot.setState('B', 'good'); // mark-good after a successful start
    assert.equal(boot.boot(), 'B');
    assert.throws(() => boot.setState('C', 'good'), /unknown slot 'C'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rauc's custom bootloader shell backend follows the same rules as FileBootloader", { skip: spawnSync('sh', ['-c', 'true']).status === 0 ? false : 'no /bin/sh' }, () => {
  const dir = tmp();
  try {
    const script = join(dir, 'backend.sh');
    const shellEnv = join(dir, 'shell-env');
    const modelEnv = join(dir, 'model-env');
    writeFileSync(script, customBackendScript(shellEnv));
    chmodSync(script, 0o755);
    new FileBootloader(shellEnv, { defaultAttempts: 2 }).init();
    const model = new FileBootloader(modelEnv, { defaultAttempts: 2 });
    model.init();
    const steps = [
      ['get-primary'], ['get-current'], ['get-state', 'A'], ['get-state', 'B'], ['set-state', 'B', 'bad'], ['set-primary', 'B'],
      ['get-primary'], ['get-state', 'B'], ['set-state', 'B', 'bad'], ['get-primary'], ['set-state', 'A', 'good'], ['get-state', 'A'],
    ];
    for (const step of steps) {
      const shell = spawnSync(script, step, { encoding: 'utf8' });
      assert.equal(shell.status, 0, `${step.join(' ')}: ${shell.stderr}`);
      assert.equal(shell.stdout.trim(), model.command(step), step.join(' '));
    }
    assert.deepEqual(new FileBootloader(shellEnv).load(), model.load(), 'both leave the same environment');
    assert.notEqual(spawnSync(script, ['get-state', 'C']).status, 0, 'unknown slots are refused');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulated bundles: the signature protects the content; wrong key and garbage are refused', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyring = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const payload = randomBytes(5000);
  const bundle = createSimulatedBundle(payload, { compatible: 'c', version: '1' }, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const opened = openSimulatedBundle(bundle, keyring);
  assert.deepEqual(opened.payload, payload);
  assert.equal(opened.manifest.version, '1');
  const flipped = Buffer.from(bundle);
  flipped[100] = flipped[100]! ^ 1;
  assert.throws(() => openSimulatedBundle(flipped, keyring), /signature verification failed/);
  assert.throws(() => openSimulatedBundle(bundle, other.publicKey.export({ type: 'spki', format: 'pem' }).toString()), /signature verification failed/);
  assert.throws(() => openSimulatedBundle(randomBytes(100), keyring), /not a bundle/);
  assert.throws(() => openSimulatedBundle(bundle, ''), /no keyring/);
});

test('topics: the seed names, registered and validated by the kernel registry', () => {
  const registry = new TopicRegistry();
  registry.add('firmware-update', FIRMWARE_TOPICS);
  const names = registry.list().map((t) => t.topic);
  for (const topic of [
    'firmware/update/target/url',
    'firmware/update/target/max_trials',
    'firmware/update/target/interval',
    'firmware/update/state/actual',
    'firmware/update/state/progress',
    'firmware/update/result/state',
    'firmware/update/result/message',
  ]) {
    assert.ok(names.includes(topic), topic);
  }
  assert.equal(registry.get('firmware/update/target/url')?.direction, 'publishable');
  assert.equal(registry.get('firmware/update/state/actual')?.direction, 'subscribeable-only');
  assert.equal(registry.validate('firmware/update/target/max_trials', ''), undefined);
  assert.equal(registry.validate('firmware/update/target/max_trials', 3), undefined);
  assert.match(registry.validate('firmware/update/target/max_trials', 1.5) ?? '', /payload/);
  assert.match(registry.validate('firmware/update/state/actual', 'rebooting') ?? '', /allowed values/);
  assert.match(registry.validate('firmware/update/state/progress', 101) ?? '', /<= 100/);
  assert.equal(registry.validate('firmware/update/result/state', ''), undefined);
  assert.deepEqual(plugin.manifest.topics, FIRMWARE_TOPICS);
});

test('config: the schema defaults and withDefaults agree', () => {
  const ajv = new Ajv2020({ useDefaults: true, strict: false });
  const validate = ajv.compile(CONFIG_SCHEMA);
  const config: Record<string, unknown> = {};
  assert.ok(validate(config), JSON.stringify(validate.errors));
  assert.deepEqual(config, withDefaults({}));
  assert.equal(validate({ backend: 'swupdate' }), false);
});

test('atomic writes leave no temp file behind', () => {
  const dir = tmp();
  try {
    writeFileAtomic(join(dir, 'sub', 'state.json'), '{"a":1}');
    writeFileAtomic(join(dir, 'sub', 'state.json'), '{"a":2}');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['state.json']);
    assert.equal(readFileSync(join(dir, 'sub', 'state.json'), 'utf8'), '{"a":2}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HTTP download: follows redirects, gives up on a server that stops sending', async () => {
  const dir = tmp();
  const body = randomBytes(100_000);
  const server = createServer((req, res) => {
    if (req.url === '/old') return void res.writeHead(302, { location: '/new' }).end();
    if (req.url === '/new') return void res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    res.writeHead(200, { 'content-length': String(body.length) });
    res.write(body.subarray(0, 1000)); // then silence
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const progress: number[] = [];
    const dest = join(dir, 'a');
    const result = await download({
      url: new URL(`http://127.0.0.1:${port}/old`),
      dest,
      signal: new AbortController().signal,
      onProgress: (p) => progress.push(p),
      onSize: async () => {},
      idleTimeoutMs: 5000,
    });
    assert.equal(result.bytes, body.length);
    assert.deepEqual(readFileSync(dest), body);
    assert.equal(progress.at(-1), 100);
    await assert.rejects(
      download({
        url: new URL(`http://127.0.0.1:${port}/stall`),
        dest: join(dir, 'b'),
        signal: new AbortController().signal,
        onProgress: () => {},
        onSize: async () => {},
        idleTimeoutMs: 300,
      }),
      /no data from 127\.0\.0\.1:\d+ for 0\.3 s|connection closed after 1000 of 100000 bytes/,
    );
    assert.deepEqual(readdirSync(dir), ['a'], 'the partial file is removed');
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
