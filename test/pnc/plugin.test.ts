/**
 * The pnc plugin itself, started with a plugin context over a real bus and a real (not started)
 * V2gService: private keys with a wider mode than 0600 are refused (naming the file), certificate
 * files are reloaded when they change on disk (chokidar), expiry warnings and the certificate list
 * are published, and the provider is registered with the kernel's V2G service and removed on stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusMessage, PluginContext } from '@opensecc/plugin-api';
import { V2gService } from '@opensecc/core/v2g/index';
import plugin, { PNC, type PncApi, type CertificateEntry, type CrlEntry } from '@opensecc/plugin-pnc';
import { createCrl, generatePki, parseCertificate, readCertificate, readChain } from '@opensecc/v2g-pki';
import { pncBus, silentLogger } from './helpers/stack.js';

const DAY = 86_400_000;

async function startPlugin(config: Record<string, unknown>) {
  const { kernelBus, bus } = pncBus();
  const v2g = new V2gService({ bus, log: silentLogger(), config: {} });
  const registered: unknown[] = [];
  const setPncProvider = v2g.setPncProvider.bind(v2g);
  v2g.setPncProvider = (provider) => {
    registered.push(provider);
    return setPncProvider(provider);
  };
  const controller = new AbortController();
  const pluginBus = kernelBus.view({ kind: 'plugin', name: 'pnc' });
  const ctx: PluginContext<Record<string, unknown>> = {
    manifest: plugin.manifest,
    config: { warnBeforeExpiryDays: 30, backendTimeoutMs: 1000, expiryCheckIntervalS: 3600, ...config },
    bus: pluginBus,
    log: silentLogger(),
    signal: controller.signal,
    onConfigChange: () => {},
    use: <T>(capability: string) => {
      if (capability !== 'v2g') throw new Error(`no ${capability}`);
      return v2g as unknown as T;
    },
    dataDir: mkdtempSync(join(tmpdir(), 'pnc-plugin-data-')),
  };
  const events: Array<BusMessage> = [];
  kernelBus.view({ kind: 'external', name: 'watcher' }).subscribe('ci/pnc/#', (m) => events.push(m));
  const handle = (await plugin.start(ctx as never))!;
  const api = handle.api as PncApi;
  return {
    api,
    bus,
    events,
    registered,
    v2g,
    async stop() {
      controller.abort();
      await handle.stop?.();
    },
  };
}

/** Resolves when `predicate` holds for a published message (waits for the file watcher). */
function nextMessage(events: BusMessage[], predicate: (m: BusMessage) => boolean, timeoutMs = 10000): Promise<BusMessage> {
  const start = events.length;
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      const found = events.slice(start).find(predicate);
      if (found) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(events.slice(start).map((e) => e.topic))}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

test('registers its provider with the V2G service (Contract offered with a valid PKI) and removes it on stop', async () => {
  const layout = await generatePki(mkdtempSync(join(tmpdir(), 'pnc-plugin-')));
  const p = await startPlugin({ pkiDir: layout.dir });
  try {
    assert.equal(p.registered.length, 1);
    const status = p.bus.get<{ contractOffered: boolean; problems: string[] }>(PNC.status)!;
    assert.equal(status.contractOffered, true, JSON.stringify(status));
    assert.deepEqual(status.problems, []);
    const certificates = p.bus.get<CertificateEntry[]>(PNC.certificates)!;
    assert.deepEqual(certificates.map((c) => c.role).sort(), ['mo-root', 'oem-root', 'oem-sub-ca', 'oem-sub-ca', 'secc-leaf', 'secc-sub-ca', 'secc-sub-ca', 'v2g-root'].sort());
    assert.ok(certificates.every((c) => c.status === 'valid'));
  } finally {
    await p.stop();
  }
  // After stop another provider may register: the old one is gone.
  assert.doesNotThrow(() => p.v2g.setPncProvider({} as never)());
});

test('a private key with mode 0644 is refused with an error naming the file; chmod 600 and a reload accept it', async () => {
  const layout = await generatePki(mkdtempSync(join(tmpdir(), 'pnc-plugin-')));
  chmodSync(layout.seccLeaf.key, 0o644);
  const p = await startPlugin({ pkiDir: layout.dir });
  try {
    const status = p.bus.get<{ contractOffered: boolean; reason?: string; problems: string[] }>(PNC.status)!;
    assert.equal(status.contractOffered, false);
    assert.ok(status.problems.some((m) => m.includes(layout.seccLeaf.key) && /mode 0644/.test(m) && /0600/.test(m)), JSON.stringify(status.problems));
    assert.match(String(status.reason), /private key/);
    assert.equal(p.api.provider.contractOffer(new Date()).ok, false);
    chmodSync(layout.seccLeaf.key, 0o600);
    p.api.reload();
    assert.equal(p.bus.get<{ contractOffered: boolean }>(PNC.status)!.contractOffered, true);
  } finally {
    await p.stop();
  }
});

test('a certificate file replaced on disk is reloaded: an expired SECC certificate withdraws Contract', async () => {
  const layout = await generatePki(mkdtempSync(join(tmpdir(), 'pnc-plugin-')));
  const now = Date.now();
  const expired = await generatePki(mkdtempSync(join(tmpdir(), 'pnc-plugin-expired-')), { overrides: { seccLeaf: { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) } } });
  // The SECC files live apart from the PKI so that only they change.
  const secc = mkdtempSync(join(tmpdir(), 'pnc-plugin-secc-'));
  copyFileSync(layout.seccChain, join(secc, 'secc-chain.pem'));
  copyFileSync(layout.seccLeaf.key, join(secc, 'secc.key.pem'));
  chmodSync(join(secc, 'secc.key.pem'), 0o600);
  const p = await startPlugin({ pkiDir: expired.dir, seccCertFile: join(secc, 'secc-chain.pem'), seccKeyFile: join(secc, 'secc.key.pem'), trustStores: { v2g: [layout.v2gRoot.cert, expired.v2gRoot.cert], mo: [layout.moRoot.cert] } });
  try {
    assert.equal(p.bus.get<{ contractOffered: boolean }>(PNC.status)!.contractOffered, true);
    const withdrawn = nextMessage(p.events, (m) => m.topic === PNC.status && (m.value as { contractOffered: boolean }).contractOffered === false);
    const warned = nextMessage(p.events, (m) => m.topic === PNC.expiryWarning && (m.value as CertificateEntry).role === 'secc-leaf');
    copyFileSync(expired.seccChain, join(secc, 'secc-chain.pem'));
    copyFileSync(expired.seccLeaf.key, join(secc, 'secc.key.pem'));
    const status = (await withdrawn).value as { reason: string };
    assert.match(status.reason, /FAILED_CertificateExpired/);
    const warning = (await warned).value as CertificateEntry & { message: string };
    assert.equal(warning.status, 'expired');
    assert.match(warning.message, /expired/);
  } finally {
    await p.stop();
  }
});

test('a certificate within the warning period: status "expiring" in ci/pnc/certificates and an expiry warning', async () => {
  const now = Date.now();
  const layout = await generatePki(mkdtempSync(join(tmpdir(), 'pnc-plugin-')), { overrides: { seccLeaf: { notBefore: new Date(now - DAY), notAfter: new Date(now + 10 * DAY) } } });
  const { kernelBus } = pncBus();
  void kernelBus;
  const p = await startPlugin({ pkiDir: layout.dir, warnBeforeExpiryDays: 30 });
  try {
    const leaf = p.bus.get<CertificateEntry[]>(PNC.certificates)!.find((c) => c.role === 'secc-leaf')!;
    assert.equal(leaf.status, 'expiring');
    assert.ok(leaf.daysLeft >= 9 && leaf.daysLeft <= 10, String(leaf.daysLeft));
    const warnings = p.events.filter((m) => m.topic === PNC.expiryWarning).map((m) => m.value as CertificateEntry & { message: string });
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0]!.role, 'secc-leaf');
    assert.match(warnings[0]!.message, /expires on .* \(\d+ days left\)/);
    // Still valid: Contract stays offered.
    assert.equal(p.bus.get<{ contractOffered: boolean }>(PNC.status)!.contractOffered, true);
  } finally {
    await p.stop();
  }
});

test('CRLs: the generated (empty) ones are listed on ci/pnc/crls; a CRL file dropped into the directory while running revokes the contract; one with a bad signature is refused', async () => {
  const layout = await generatePki(mkdtempSync(join(tmpdir(), 'pnc-plugin-crl-')));
  const other = await generatePki(mkdtempSync(join(tmpdir(), 'pnc-plugin-crl-other-')));
  const p = await startPlugin({ pkiDir: layout.dir });
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const [leaf, ...subs] = readChain(layout.contractChain);
  const chain = { Certificate: hex(leaf!), SubCertificates: { Certificate: subs.map(hex) } };
  try {
    const initial = p.bus.get<CrlEntry[]>(PNC.crls)!;
    assert.deepEqual(initial.map((c) => c.file.split('/').pop()).sort(), ['cpo-sub-ca-2.crl.pem', 'cps-sub-ca-2.crl.pem', 'mo-sub-ca-2.crl.pem', 'oem-sub-ca-2.crl.pem']);
    assert.ok(initial.every((c) => c.count === 0 && c.status === 'valid' && c.crlNumber === 1), JSON.stringify(initial));
    // The CPO sub-CA 2 is in the SECC chain and the OEM sub-CA 2 in the OEM store: their CRLs are verified at load.
    assert.equal(initial.find((c) => c.issuer.includes('CPOSubCA2'))!.signature, 'verified');
    assert.equal(initial.find((c) => c.issuer.includes('MOSubCA2'))!.signature, 'unverified');
    assert.deepEqual(p.api.provider.checkContract(chain, layout.emaid, new Date()), { ok: true });

    const serial = parseCertificate(readCertificate(layout.contract.cert)).serialNumber;
    const crl = await createCrl({ issuerCert: layout.moSub2.cert, issuerKey: layout.moSub2.key, revoked: [{ serialNumber: serial, reason: 'superseded' }], crlNumber: 2 });
    const listed = nextMessage(p.events, (m) => m.topic === PNC.crls && (m.value as CrlEntry[]).some((c) => c.file.endsWith('dropped.crl')));
    writeFileSync(join(layout.dir, 'dropped.crl'), crl.der); // DER this time
    const entry = ((await listed).value as CrlEntry[]).find((c) => c.file.endsWith('dropped.crl'))!;
    assert.equal(entry.count, 1);
    assert.equal(entry.crlNumber, 2);
    assert.match(entry.issuer, /CN=MOSubCA2/);
    assert.ok(entry.nextUpdate);
    const check = p.api.provider.checkContract(chain, layout.emaid, new Date());
    assert.equal(check.ok, false);
    assert.equal((check as { code: string }).code, 'FAILED_CertificateRevoked');

    // A CRL for the CPO sub-CA 2 (known to the plugin) signed by another key: refused at load, named in the problems.
    const forged = await createCrl({ issuerCert: layout.cpoSub2.cert, issuerKey: other.cpoSub2.key, revoked: [{ serialNumber: parseCertificate(readCertificate(layout.seccLeaf.cert)).serialNumber }] });
    const refused = nextMessage(p.events, (m) => m.topic === PNC.status && (m.value as { problems: string[] }).problems.some((x) => x.includes('forged.crl.pem')));
    writeFileSync(join(layout.dir, 'forged.crl.pem'), forged.pem);
    const status = (await refused).value as { contractOffered: boolean; problems: string[] };
    assert.match(status.problems.find((x) => x.includes('forged.crl.pem'))!, /ignored, .*does not verify/);
    assert.equal(status.contractOffered, true, 'the SECC leaf is not revoked by a forged CRL');
    assert.ok(!p.bus.get<CrlEntry[]>(PNC.crls)!.some((c) => c.file.endsWith('forged.crl.pem')));
  } finally {
    await p.stop();
  }
});
