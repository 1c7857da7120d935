// State across daemon restarts and reboots: interrupted updates, install-succeeded surviving a
// restart, confirmation of the new slot after the reboot, rollback when it is never marked good.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackendFixture, raucUnavailableReason, type BackendFixture } from './backend-fixture.js';
import { finalResult, requestUpdate, startPlugin, type Running } from './harness.js';
import { TestHttpServer } from './servers.js';

/** Poll a condition (a safety limit turns a hang into a failure). */
async function waitUntil(condition: () => boolean, what = 'a partial download on disk'): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`gave up waiting for ${what}`);
}

const reason = raucUnavailableReason();
if (reason) console.log(`# real rauc cannot run here (${reason}); only the simulated A/B backend is tested`);

for (const kind of ['rauc', 'simulated'] as const) {
  describe(`firmware update across restarts and reboots (${kind} backend)`, { skip: kind === 'rauc' && reason ? `real rauc unavailable: ${reason}` : false }, () => {
    let root: string;
    let fixture: BackendFixture;
    let http: TestHttpServer;
    let dataDir: string;
    let cacheDir: string;

    before(async () => {
      root = mkdtempSync(join(tmpdir(), `fw-restart-${kind}-`));
      mkdirSync(join(root, 'www'));
      fixture = await createBackendFixture(join(root, 'backend'), kind);
      fixture.makeBundle(join(root, 'www', 'v2.image'), '2.0.0');
      fixture.makeBundle(join(root, 'www', 'v3.image'), '3.0.0');
      http = new TestHttpServer()
        .route('/v2.image', { kind: 'file', file: join(root, 'www', 'v2.image') })
        .route('/v3.image', { kind: 'file', file: join(root, 'www', 'v3.image') })
        .route('/stall.image', { kind: 'stall', file: join(root, 'www', 'v2.image') });
      await http.start();
      dataDir = join(root, 'data');
      cacheDir = join(root, 'cache');
    });

    after(async () => {
      await http?.close();
      await fixture?.close();
      rmSync(root, { recursive: true, force: true });
    });

    const config = () => ({ ...fixture.config, cacheDir, minFreeSpaceMiB: 1, usbPollMs: 0, downloadIdleTimeoutSec: 30 });
    const start = () => startPlugin({ dataDir, config: config() });

    async function withPlugin<T>(fn: (running: Running) => Promise<T>): Promise<T> {
      const running = await start();
      try {
        return await fn(running);
      } finally {
        await running.stop();
      }
    }

    test('daemon killed in the middle of a download: reported as download-failed on the next start', async () => {
      const child = spawn(process.execPath, [fileURLToPath(new URL('./daemon-child.js', import.meta.url)), JSON.stringify({ dataDir, config: config(), url: http.url('/stall.image') })], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      // Wait until the child reports download progress, then cut its power.
      await new Promise<void>((resolve, reject) => {
        let buffer = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          buffer += chunk;
          for (const line of buffer.split('\n').slice(0, -1)) {
            const event = JSON.parse(line) as { topic: string; value: unknown };
            if (event.topic === 'firmware/update/state/progress' && typeof event.value === 'number' && event.value > 0) resolve();
          }
          buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
        });
        child.on('exit', (code) => reject(new Error(`daemon child exited early (${code})`)));
      });
      // The progress tick comes before the write stream has put the bytes on disk: wait for them.
      await waitUntil(() => readdirSync(cacheDir).some((name) => statSync(join(cacheDir, name)).size > 0));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      await withPlugin(async (running) => {
        assert.equal(running.bus.get('firmware/update/state/actual'), 'download-failed');
        assert.equal(running.bus.get('firmware/update/result/state'), 'failed');
        assert.match(String(running.bus.get('firmware/update/result/message')), /interrupted: .* in state 'downloading'/);
        assert.deepEqual(readdirSync(cacheDir), [], 'the partial download is removed');
      });
    });

    test('power loss while installing: install-failed after the reboot, never "installing"', async () => {
      const saved = { version: 1, actual: 'installing', progress: 40, resultState: '', resultMessage: '', bootId: 'before-power-loss', operation: { source: 'mqtt', target: 'http://x/fw.image', attempt: 1, maxTrials: 1 } };
      writeFileSync(join(dataDir, 'firmware-update-state.json'), JSON.stringify(saved));
      await withPlugin(async (running) => {
        assert.deepEqual(running.values('firmware/update/state/actual'), ['install-failed']);
        assert.equal(running.bus.get('firmware/update/result/state'), 'failed');
        assert.match(String(running.bus.get('firmware/update/result/message')), /system restarted .* 'installing'/);
      });
    });

    test('install-succeeded survives a daemon restart; no reboot happens by itself', async () => {
      const from = fixture.bootloader.current();
      await withPlugin(async (running) => {
        const done = finalResult(running);
        requestUpdate(running, http.url('/v2.image'));
        assert.equal((await done).value, 'succeeded');
        await running.api.idle();
      });
      assert.equal(fixture.bootloader.current(), from);
      await withPlugin(async (running) => {
        assert.equal(running.bus.get('firmware/update/state/actual'), 'install-succeeded');
        assert.equal(running.bus.get('firmware/update/result/state'), 'succeeded');
        assert.equal(running.bus.get('ci/firmware/slot/booted'), from);
        assert.notEqual(running.bus.get('ci/firmware/slot/primary'), from);
      });
    });

    test('reboot into the new slot: confirmed (marked good), idle, result succeeded; it stays', async () => {
      const target = fixture.bootloader.primary();
      assert.equal(await fixture.reboot(), target);
      await withPlugin(async (running) => {
        assert.equal(running.bus.get('firmware/update/state/actual'), 'idle');
        assert.equal(running.bus.get('firmware/update/result/state'), 'succeeded');
        assert.equal(running.bus.get('firmware/update/result/message'), '');
        assert.equal(running.bus.get('ci/firmware/slot/booted'), target);
        const status = await running.api.backend.status();
        assert.equal(status.slots.find((s) => s.bootname === target)?.bootStatus, 'good');
        assert.equal(status.slots.find((s) => s.bootname === target)?.bundleVersion, '2.0.0');
      });
      assert.equal(await fixture.reboot(), target, 'a good slot keeps booting');
      await withPlugin(async (running) => {
        assert.equal(running.bus.get('firmware/update/state/actual'), 'idle');
        assert.equal(running.bus.get('firmware/update/result/state'), '', 'after a plain reboot nothing was triggered');
      });
    });

    test('rollback: a new slot that boots but is never marked good falls back; failure reported after reboot', async () => {
      const previous = fixture.bootloader.current();
      await withPlugin(async (running) => {
        const done = finalResult(running);
        requestUpdate(running, http.url('/v3.image'));
        assert.equal((await done).value, 'succeeded');
        await running.api.idle();
      });
      const fresh = await fixture.reboot();
      assert.notEqual(fresh, previous, 'the new firmware is tried once');
      // The new firmware does not come up: the plugin never runs, nobody marks the slot good.
      assert.equal(await fixture.reboot(), previous, 'the bootloader falls back');
      await withPlugin(async (running) => {
        assert.equal(running.bus.get('firmware/update/state/actual'), 'idle');
        assert.equal(running.bus.get('firmware/update/result/state'), 'failed');
        assert.match(String(running.bus.get('firmware/update/result/message')), new RegExp(`rollback: .*slot ${fresh}.*slot ${previous}`));
        assert.equal(running.bus.get('ci/firmware/slot/booted'), previous);
        assert.equal(running.bus.get('ci/firmware/slot/primary'), previous);
      });
      assert.equal(await fixture.reboot(), previous, 'and stays on the previous slot');
    });
  });
}
