/**
 * Plug & Charge end to end with separate processes and real sockets: `secc start --sim` (TLS with
 * the generated SECC chain, the pnc plugin on the generated PKI, the simulated certificate backend,
 * the embedded MQTT broker) and `secc sim ev --protocol iso2 --pnc --tls --pki DIR` (SLAC over the
 * simulated link, SDP, TLS verified against the V2G root, Contract payment), checked through the
 * EV's summary and the MQTT API. Then certificate installation, once with the daemon's simulated
 * backend and once answered by a real MQTT client on the embedded broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { emaidForPcid, SimPncBackend } from '@opensecc/core/sim/pnc-backend';
import { DEFAULT_EMAID, generatePki, parseCertificate, readCertificate, type PkiLayout } from '@opensecc/v2g-pki';
import { silentLogger } from './helpers/stack.js';

const SECC = fileURLToPath(new URL('../../../bin/secc.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp6');
  await new Promise<void>((resolve) => socket.bind(0, '::1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function waitFor(child: ChildProcess, output: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${output().slice(-3000)}`)), timeoutMs);
    const check = () => {
      if (pattern.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code}):\n${output().slice(-3000)}`));
    });
  });
}

interface Daemon {
  readonly dir: string;
  readonly sdpPort: number;
  readonly client: mqtt.MqttClient;
  values(topic: string): string[];
  log(): string;
  stop(): Promise<void>;
}

/** `pnc`: the plugin's config (pkiDir → the daemon runs the simulated backend too). */
async function startDaemon(layout: PkiLayout, pnc: Record<string, unknown>): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'pnc-e2e-'));
  const mqttPort = await freePort();
  const sdpPort = await freeUdpPort();
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'info' },
      pluginHost: { watch: false, dataDir: join(dir, 'data'), runDir: join(dir, 'run'), watchDir: join(dir, 'plugins') },
      plugins: { 'mqtt-broker': { enabled: true, config: { port: mqttPort } }, 'firmware-update': { enabled: false }, logging: { enabled: false }, pnc: { enabled: true, config: pnc } },
      charging: { contactorFeedbackTimeoutMs: 500 },
      v2g: {
        protocols: ['iso15118-2'],
        sdpPort,
        security: 'tls',
        tls: { certFile: layout.seccChain, keyFile: layout.seccLeaf.key },
        iso2: { paymentOptions: ['Contract', 'ExternalPayment'] },
      },
    }),
  );
  const daemon = spawn(process.execPath, [SECC, 'start', '--sim', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  daemon.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  daemon.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(daemon, () => output, /"msg":"kernel ready"/, 20000);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`);
  const seen: Array<{ topic: string; payload: string }> = [];
  client.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await client.subscribeAsync(['ci/hlc/#', 'ci/pnc/#']);
  return {
    dir,
    sdpPort,
    client,
    values: (topic) => seen.filter((m) => m.topic === topic).map((m) => m.payload),
    log: () => output,
    async stop() {
      await client.endAsync();
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    },
  };
}

async function simEv(daemon: Daemon, args: string[]) {
  const sim = spawn(
    process.execPath,
    [SECC, 'sim', 'ev', '--protocol', 'iso2', '--host', '::1', '--soc', '78', '--target-soc', '80', '--capacity-wh', '400', '--speed', '4', '--link', join(daemon.dir, 'run', 'sim-link.sock'), '--sdp-port', String(daemon.sdpPort), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  sim.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  sim.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => sim.on('exit', resolve));
  await new Promise((r) => setTimeout(r, 300));
  const lines = out.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  return { code, summary, err, sequence: [...new Set((summary.sequence as string[]).map((s) => s.replace(/×\d+$/, '')))] };
}

let shared: Promise<PkiLayout> | undefined;
const layoutOnce = () => (shared ??= generatePki(mkdtempSync(join(tmpdir(), 'pnc-e2e-pki-'))));

const PNC_SEQUENCE = [
  'supportedAppProtocolReq:OK_SuccessfulNegotiation',
  'SessionSetupReq:OK_NewSessionEstablished',
  'ServiceDiscoveryReq:OK',
  'PaymentServiceSelectionReq:OK',
  'PaymentDetailsReq:OK',
  'AuthorizationReq:OK',
  'ChargeParameterDiscoveryReq:OK',
  'CableCheckReq:OK',
  'PreChargeReq:OK',
  'PowerDeliveryReq:OK',
  'CurrentDemandReq:OK',
  'WeldingDetectionReq:OK',
  'SessionStopReq:OK',
];

test('secc start --sim + secc sim ev --protocol iso2 --pnc --tls --pki: a complete Plug & Charge session over TLS', { timeout: 90000 }, async () => {
  const layout = await layoutOnce();
  const daemon = await startDaemon(layout, { pkiDir: layout.dir });
  try {
    const run = await simEv(daemon, ['--tls', '--pnc', '--pki', layout.dir]);
    assert.equal(run.code, 0, `sim exit code; summary ${JSON.stringify(run.summary)}\n${run.err}\n${daemon.log().slice(-4000)}`);
    assert.equal(run.summary.security, 'tls');
    assert.deepEqual(run.sequence, PNC_SEQUENCE);
    assert.equal(run.summary.emaid, DEFAULT_EMAID);
    assert.equal(run.summary.contract_installed, false);
    assert.deepEqual(daemon.values('ci/hlc/session/payment_option').slice(-1), ['Contract']);
    assert.deepEqual(daemon.values('ci/hlc/ev/emaid').slice(-1), [DEFAULT_EMAID]);
    assert.deepEqual(daemon.values('ci/hlc/session/tls').slice(-1), ['true']);
    const status = JSON.parse(daemon.values('ci/pnc/status').at(-1)!) as { contractOffered: boolean };
    assert.equal(status.contractOffered, true);
    const certificates = JSON.parse(daemon.values('ci/pnc/certificates').at(-1)!) as Array<{ role: string; status: string }>;
    assert.ok(certificates.some((c) => c.role === 'secc-leaf' && c.status === 'valid'), JSON.stringify(certificates));
  } finally {
    await daemon.stop();
  }
});

test('… --install-certificate: CertificateInstallation with the OEM provisioning certificate, answered by the daemon’s simulated backend on the ci/pnc/certificate_installation topics', { timeout: 90000 }, async () => {
  const layout = await layoutOnce();
  const daemon = await startDaemon(layout, { pkiDir: layout.dir });
  try {
    const run = await simEv(daemon, ['--tls', '--pnc', '--pki', layout.dir, '--install-certificate']);
    assert.equal(run.code, 0, `sim exit code; summary ${JSON.stringify(run.summary)}\n${run.err}\n${daemon.log().slice(-4000)}`);
    assert.ok(run.sequence.includes('CertificateInstallationReq:OK'), run.sequence.join(' '));
    assert.ok(run.sequence.indexOf('CertificateInstallationReq:OK') < run.sequence.indexOf('PaymentDetailsReq:OK'));
    assert.equal(run.summary.contract_installed, true);
    // A contract issued for this EV: its eMAID derived from the PCID, not the PKI directory's contract.
    assert.equal(run.summary.emaid, emaidForPcid(layout.pcid, layout.emaid));
    assert.notEqual(run.summary.contract_serial, parseCertificate(readCertificate(layout.contract.cert)).serialNumber);
    assert.deepEqual(daemon.values('ci/hlc/ev/emaid').slice(-1), [run.summary.emaid]);
    assert.equal(daemon.values('ci/pnc/certificate_installation/request').length, 1);
    // The simulated backend answers on the bus (a publishable topic is not echoed to MQTT).
    assert.match(daemon.log(), /simulated certificate backend answers/);
  } finally {
    await daemon.stop();
  }
});

test('certificate installation answered by a real MQTT client on the embedded broker (no simulated backend in the daemon)', { timeout: 90000 }, async () => {
  const layout = await layoutOnce();
  // Explicit paths instead of pkiDir: the daemon runs no simulated backend; this test is the backend.
  const daemon = await startDaemon(layout, {
    trustStores: { v2g: [layout.v2gRoot.cert], mo: [layout.moRoot.cert], oem: [layout.oemRoot.cert, layout.oemSub1.cert, layout.oemSub2.cert] },
    seccCertFile: layout.seccChain,
    seccKeyFile: layout.seccLeaf.key,
  });
  const backend = new SimPncBackend({ bus: { subscribe: () => () => {} } as never, log: silentLogger(), pkiDir: layout.dir });
  backend.start();
  let requests = 0;
  daemon.client.on('message', (topic, payload) => {
    if (topic !== 'ci/pnc/certificate_installation/request') return;
    requests++;
    const request = JSON.parse(payload.toString()) as { requestId: string; sessionId: string; request: Record<string, Record<string, unknown>> };
    void backend.response('installation', request).then(({ body, signature }) => daemon.client.publishAsync('ci/pnc/certificate_installation/response', JSON.stringify({ requestId: request.requestId, sessionId: request.sessionId, status: 'Accepted', response: { CertificateInstallationRes: body }, signature })));
  });
  try {
    const run = await simEv(daemon, ['--tls', '--pnc', '--pki', layout.dir, '--install-certificate']);
    assert.equal(run.code, 0, `sim exit code; summary ${JSON.stringify(run.summary)}\n${run.err}\n${daemon.log().slice(-4000)}`);
    assert.equal(requests, 1);
    assert.ok(run.sequence.includes('CertificateInstallationReq:OK'));
    assert.equal(run.summary.contract_installed, true);
    assert.doesNotMatch(daemon.log(), /simulated certificate backend ready/);
  } finally {
    await daemon.stop();
  }
});

test('… --update-certificate: CertificateUpdate signed with the current contract key, a new contract issued by the daemon’s simulated backend, and the EV pays with it', { timeout: 90000 }, async () => {
  const layout = await layoutOnce();
  const daemon = await startDaemon(layout, { pkiDir: layout.dir });
  try {
    const run = await simEv(daemon, ['--tls', '--pnc', '--pki', layout.dir, '--update-certificate']);
    assert.equal(run.code, 0, `sim exit code; summary ${JSON.stringify(run.summary)}\n${run.err}\n${daemon.log().slice(-4000)}`);
    assert.ok(run.sequence.includes('CertificateUpdateReq:OK'), run.sequence.join(' '));
    assert.ok(run.sequence.indexOf('CertificateUpdateReq:OK') < run.sequence.indexOf('PaymentDetailsReq:OK'));
    assert.equal(run.summary.contract_updated, true);
    assert.equal(run.summary.contract_installed, false);
    // Same contract account, a new certificate: the one the backend issued for this request.
    assert.equal(run.summary.emaid, DEFAULT_EMAID);
    const old = parseCertificate(readCertificate(layout.contract.cert)).serialNumber;
    assert.match(String(run.summary.contract_serial), /^[0-9a-f]+$/);
    assert.notEqual(run.summary.contract_serial, old);
    const issuedLine = daemon.log().split('\n').find((line) => line.includes('issued a contract certificate'));
    assert.ok(issuedLine?.includes(`"serialNumber":"${String(run.summary.contract_serial)}"`), `backend log: ${issuedLine}`);
    const requests = daemon.values('ci/pnc/certificate_update/request').map((v) => JSON.parse(v) as { emaid: string; request: { CertificateUpdateReq: { ContractSignatureCertChain: { Certificate: string } } } });
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.emaid, DEFAULT_EMAID);
    // The request carried the old contract certificate (what the EV signed with).
    assert.equal(parseCertificate(new Uint8Array(Buffer.from(requests[0]!.request.CertificateUpdateReq.ContractSignatureCertChain.Certificate, 'hex'))).serialNumber, old);
    assert.deepEqual(daemon.values('ci/hlc/ev/emaid').slice(-1), [DEFAULT_EMAID]);
    assert.deepEqual(daemon.values('ci/hlc/session/payment_option').slice(-1), ['Contract']);
  } finally {
    await daemon.stop();
  }
});
