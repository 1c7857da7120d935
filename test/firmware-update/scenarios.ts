// The acceptance scenarios of issue 9 against a local HTTP and FTP server, for one backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackendFixture, type BackendFixture } from './backend-fixture.js';
import { finalResult, requestUpdate, startPlugin, stateSequence, type Running } from './harness.js';
import { TestFtpServer, TestHttpServer } from './servers.js';

const MESSAGE = 'firmware/update/result/message';
const RESULT = 'firmware/update/result/state';

export function updateScenarios(kind: 'rauc' | 'simulated', skip: string | false): void {
  describe(`firmware update over MQTT topics (${kind} backend)`, { skip }, () => {
    let root: string;
    let fixture: BackendFixture;
    let http: TestHttpServer;
    let ftp: TestFtpServer;
    let https: TestHttpServer;
    let caFile: string;
    let files: string;
    let casync: { chunked: boolean; why?: string };

    before(async () => {
      root = mkdtempSync(join(tmpdir(), `fw-${kind}-`));
      files = join(root, 'www');
      mkdirSync(join(files, 'casync'), { recursive: true });
      fixture = await createBackendFixture(join(root, 'backend'), kind);
      fixture.makeBundle(join(files, 'good.image'), '2.0.0');
      fixture.corrupt(join(files, 'good.image'), join(files, 'corrupt.image'));
      casync = fixture.makeCasyncBundle(join(files, 'casync'), 'update', '2.1.0');
      if (!casync.chunked) console.log(`# .raucb test uses a plain bundle fetched by the framework: ${casync.why}`);
      http = new TestHttpServer()
        .route('/fw/good.image', { kind: 'file', file: join(files, 'good.image'), user: 'installer', password: 's3cret:x' })
        .route('/fw/corrupt.image', { kind: 'file', file: join(files, 'corrupt.image') })
        .route('/fw/flaky.image', { kind: 'cut', file: join(files, 'good.image'), times: 2 })
        .route('/fw/broken.image', { kind: 'cut', file: join(files, 'good.image'), times: 1000 })
        .route('/fw/casync/', { kind: 'static', dir: join(files, 'casync') });
      await http.start();
      ftp = new TestFtpServer(files, 'ftpuser', 'ftp pass');
      await ftp.start();
      // A private update server: certificate for 127.0.0.1 from a throw-away key.
      caFile = join(root, 'server-cert.pem');
      const keyFile = join(root, 'server-key.pem');
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      https = new TestHttpServer({ key: readFileSync(keyFile, 'utf8'), cert: readFileSync(caFile, 'utf8') }).route('/fw/good.image', { kind: 'file', file: join(files, 'good.image') });
      await https.start();
    });

    after(async () => {
      await https?.close();
      await ftp?.close();
      await http?.close();
      await fixture?.close();
      rmSync(root, { recursive: true, force: true });
    });

    async function plugin(config: Record<string, unknown> = {}): Promise<Running & { cacheDir: string }> {
      const dir = mkdtempSync(join(root, 'daemon-'));
      const cacheDir = join(dir, 'cache');
      const running = await startPlugin({
        dataDir: join(dir, 'data'),
        config: { ...fixture.config, cacheDir, minFreeSpaceMiB: 1, usbPollMs: 0, downloadIdleTimeoutSec: 5, ...config },
      });
      return Object.assign(running, { cacheDir });
    }

    function cacheEntries(cacheDir: string): string[] {
      try {
        return readdirSync(cacheDir);
      } catch {
        return [];
      }
    }

    test('starts idle with an empty result', async () => {
      const running = await plugin();
      try {
        assert.equal(running.bus.get('firmware/update/state/actual'), 'idle');
        assert.equal(running.bus.get(RESULT), '');
        assert.equal(running.bus.get(MESSAGE), '');
      } finally {
        await running.stop();
      }
    });

    test('HTTP with credentials in the URL: downloads, installs, reports success, keeps running', async () => {
      const running = await plugin();
      try {
        const bootedBefore = fixture.bootloader.current();
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/good.image', 'installer:s3cret%3Ax'));
        assert.equal((await done).value, 'succeeded');
        assert.deepEqual(stateSequence(running), ['idle', 'downloading', 'download-succeeded', 'installing', 'install-succeeded']);
        assert.equal(running.bus.get(MESSAGE), '');
        assert.ok(running.values('firmware/update/state/progress').includes(100));
        const get = http.requests.find((r) => r.path === '/fw/good.image' && r.method === 'GET' && r.auth);
        assert.equal(get?.auth, 'Basic ' + Buffer.from('installer:s3cret:x').toString('base64'));
        assert.deepEqual(cacheEntries(running.cacheDir), [], 'the download is removed after installing');
        // Installed into the other slot, which the next boot will start; no reboot happened.
        await running.api.idle();
        assert.equal(fixture.bootloader.current(), bootedBefore);
        assert.notEqual(fixture.bootloader.primary(), bootedBefore);
        assert.equal(running.bus.get('ci/firmware/slot/primary'), fixture.bootloader.primary());
      } finally {
        await running.stop();
      }
    });

    test('HTTPS: an untrusted server certificate fails the download; with tlsCaFiles it installs', async () => {
      let running = await plugin();
      try {
        const done = finalResult(running);
        requestUpdate(running, https.url('/fw/good.image'));
        assert.equal((await done).value, 'failed');
        assert.equal(running.bus.get('firmware/update/state/actual'), 'download-failed');
        assert.match(String(running.bus.get(MESSAGE)), /certificate/);
      } finally {
        await running.stop();
      }
      running = await plugin({ tlsCaFiles: [caFile] });
      try {
        const done = finalResult(running);
        requestUpdate(running, https.url('/fw/good.image'));
        assert.equal((await done).value, 'succeeded');
        assert.deepEqual(stateSequence(running), ['idle', 'downloading', 'download-succeeded', 'installing', 'install-succeeded']);
      } finally {
        await running.stop();
      }
    });

    test('HTTP 404 with max_trials 2: a message after each attempt, result/state once after the last', async () => {
      const running = await plugin();
      try {
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/missing.image'), 2, 1);
        assert.equal((await done).value, 'failed');
        assert.deepEqual(stateSequence(running), ['idle', 'downloading', 'download-failed', 'downloading', 'download-failed']);
        const messages = running.values(MESSAGE).slice(1); // the first is the start-up ''
        assert.equal(messages.length, 2);
        for (const m of messages) assert.match(String(m), /HTTP 404/);
        assert.deepEqual(running.values(RESULT), ['', 'failed']);
        const topics = running.events.map((e) => e.topic);
        assert.ok(topics.lastIndexOf(RESULT) > topics.lastIndexOf(MESSAGE), 'result/state comes after the last message');
        assert.equal(http.requests.filter((r) => r.path === '/fw/missing.image').length, 2);
      } finally {
        await running.stop();
      }
    });

    test('connection cut mid-download twice, max_trials 3: retried, then installed', async () => {
      const running = await plugin();
      try {
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/flaky.image'), 3, 0);
        assert.equal((await done).value, 'succeeded');
        assert.deepEqual(stateSequence(running), [
          'idle',
          'downloading',
          'download-failed',
          'downloading',
          'download-failed',
          'downloading',
          'download-succeeded',
          'installing',
          'install-succeeded',
        ]);
        const failures = running.values(MESSAGE).filter((m) => m !== '');
        assert.equal(failures.length, 2);
        for (const m of failures) assert.match(String(m), /connection closed after \d+ of \d+ bytes/);
        assert.equal(running.bus.get(MESSAGE), '', 'success clears the message');
        assert.deepEqual(running.values(RESULT), ['', 'succeeded']);
        assert.deepEqual(cacheEntries(running.cacheDir), []);
      } finally {
        await running.stop();
      }
    });

    test('connection cut with max_trials unset: one attempt, then failed', async () => {
      const running = await plugin();
      try {
        const before = http.requests.filter((r) => r.path === '/fw/broken.image').length;
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/broken.image'));
        assert.equal((await done).value, 'failed');
        assert.equal(http.requests.filter((r) => r.path === '/fw/broken.image').length - before, 1);
        assert.equal(running.bus.get('firmware/update/state/actual'), 'download-failed');
        assert.match(String(running.bus.get(MESSAGE)), /connection closed/);
        assert.deepEqual(cacheEntries(running.cacheDir), [], 'the partial download is removed');
      } finally {
        await running.stop();
      }
    });

    test('corrupt bundle: the signature check fails, install-failed, not retried', async () => {
      const running = await plugin();
      try {
        const primaryBefore = fixture.bootloader.primary();
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/corrupt.image'), 3, 0);
        assert.equal((await done).value, 'failed');
        assert.deepEqual(stateSequence(running), ['idle', 'downloading', 'download-succeeded', 'installing', 'install-failed']);
        assert.match(String(running.bus.get(MESSAGE)), /signature/i);
        assert.equal(http.requests.filter((r) => r.path === '/fw/corrupt.image').length, 1);
        assert.equal(fixture.bootloader.primary(), primaryBefore, 'the boot order is untouched');
        assert.deepEqual(cacheEntries(running.cacheDir), []);
      } finally {
        await running.stop();
      }
    });

    test('.raucb URL: access test with HEAD, then the URL itself goes to the framework', async () => {
      const running = await plugin();
      try {
        const before = http.requests.length;
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/casync/update.raucb'));
        assert.equal((await done).value, 'succeeded');
        assert.deepEqual(stateSequence(running), ['idle', 'downloading', 'download-succeeded', 'installing', 'install-succeeded']);
        const seen = http.requests.slice(before);
        const requests = seen.filter((r) => r.path === '/fw/casync/update.raucb');
        assert.equal(requests[0]?.method, 'HEAD', 'the plugin only probes the URL');
        assert.ok(requests.some((r) => r.method === 'GET'), `the framework fetched the bundle itself (${kind})`);
        if (casync.chunked) {
          const chunks = seen.filter((r) => r.path.startsWith('/fw/casync/update.castr/') && r.path.endsWith('.cacnk'));
          assert.ok(chunks.length > 0, 'rauc/casync fetched chunks from the .castr store beside the URL');
        }
        assert.deepEqual(cacheEntries(running.cacheDir), [], 'nothing was downloaded to the cache');
      } finally {
        await running.stop();
      }
    });

    test('.raucb URL that does not exist: download-failed per trial (HEAD), whole installation retried', async () => {
      const running = await plugin();
      try {
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/absent.raucb'), 2, '');
        assert.equal((await done).value, 'failed');
        assert.deepEqual(stateSequence(running), ['idle', 'downloading', 'download-failed', 'downloading', 'download-failed']);
        assert.deepEqual(http.requests.filter((r) => r.path === '/fw/absent.raucb').map((r) => r.method), ['HEAD', 'HEAD']);
      } finally {
        await running.stop();
      }
    });

    test('FTP with user and password in the URL: downloads and installs', async () => {
      const running = await plugin();
      try {
        const done = finalResult(running);
        requestUpdate(running, ftp.url('/good.image'));
        assert.equal((await done).value, 'succeeded');
        assert.deepEqual(stateSequence(running), ['idle', 'downloading', 'download-succeeded', 'installing', 'install-succeeded']);
        assert.ok(running.values('firmware/update/state/progress').includes(100));
        assert.deepEqual(cacheEntries(running.cacheDir), []);
      } finally {
        await running.stop();
      }
    });

    test('FTP with a wrong password and a missing file: download-failed with the reason', async () => {
      const running = await plugin();
      try {
        let done = finalResult(running);
        requestUpdate(running, ftp.url('/good.image', 'ftpuser', 'wrong'));
        assert.equal((await done).value, 'failed');
        assert.equal(running.bus.get('firmware/update/state/actual'), 'download-failed');
        assert.match(String(running.bus.get(MESSAGE)), /FTP/);
        await running.api.idle();
        done = running.waitFor(RESULT, (v) => v === 'failed');
        const seen = running.values(RESULT).length;
        requestUpdate(running, ftp.url('/nothing-here.image'));
        await done;
        assert.equal(running.values(RESULT).length, seen + 1);
        assert.match(String(running.bus.get(MESSAGE)), /download failed/);
      } finally {
        await running.stop();
      }
    });

    test('not enough space in the cache: download-failed before anything is written', async () => {
      const running = await plugin({ minFreeSpaceMiB: 1024 * 1024 * 1024 });
      try {
        const done = finalResult(running);
        requestUpdate(running, http.url('/fw/good.image', 'installer:s3cret%3Ax'));
        assert.equal((await done).value, 'failed');
        assert.match(String(running.bus.get(MESSAGE)), /not enough space/);
        assert.deepEqual(cacheEntries(running.cacheDir), []);
      } finally {
        await running.stop();
      }
    });

    test('bad URLs are reported, not crashed on', async () => {
      const running = await plugin();
      try {
        let done = finalResult(running);
        requestUpdate(running, 'gopher://example.invalid/fw.image');
        assert.equal((await done).value, 'failed');
        assert.match(String(running.bus.get(MESSAGE)), /unsupported URL scheme 'gopher'/);
        await running.api.idle();
        done = running.waitFor(RESULT, (v) => v === 'failed');
        requestUpdate(running, 'not a url');
        await done;
        assert.match(String(running.bus.get(MESSAGE)), /not a valid URL/);
        assert.throws(() => running.publish('firmware/update/target/max_trials', 'three'), /max_trials/);
      } finally {
        await running.stop();
      }
    });
  });
}
