import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeKernel, waitFor } from './harness.js';

const KERNEL = { kind: 'kernel', name: 'test' } as const;

/** A sandboxed plugin that starts fine and misbehaves when it receives `test/trigger`. */
function misbehaving(name: string, body: string): string {
  return `import { definePlugin } from '@opensecc/plugin-api';
export default definePlugin({
  manifest: { name: '${name}', version: '1.0.0', bus: { read: ['test/trigger'], write: ['test/${name}/#'] } },
  start(ctx) {
    // Subscribed before saying alive: the test triggers as soon as it sees 'alive'.
    ctx.bus.subscribe('test/trigger', () => { ${body} });
    ctx.bus.publish('test/${name}/alive', true);
  },
});
`;
}

/**
 * While a plugin is stuck, the kernel's own bus round trips (publish -> subscriber -> reply on
 * a timer tick) must keep completing: the sandbox runs plugin code off the main thread.
 */
async function kernelRoundTrips(kernel: ReturnType<typeof makeKernel>['kernel'], count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = Date.now();
    await new Promise<void>((resolve) => {
      const off = kernel.bus.subscribe('test/echo/reply', () => {
        off();
        resolve();
      });
      const offAsk = kernel.bus.subscribe('test/echo/ask', () => {
        offAsk();
        setImmediate(() => kernel.bus.publish('test/echo/reply', i, KERNEL, { retain: false }));
      });
      kernel.bus.publish('test/echo/ask', i, KERNEL, { retain: false });
    });
    latencies.push(Date.now() - start);
    await new Promise((r) => setTimeout(r, 5));
  }
  return latencies;
}

for (const [kind, body, expected] of [
  ['loops forever', 'for (;;) {}', /CPU time limit/],
  ['allocates without bound', 'const hoard = []; for (;;) hoard.push(new Array(100000).fill(Math.random()));', /memory limit/],
  ['throws', "throw new Error('boom from plugin');", /threw: .*boom from plugin/],
] as const) {
  test(`a sandboxed plugin that ${kind} is stopped and reported while the kernel keeps serving`, async () => {
    const { kernel, pluginsDir, logs } = makeKernel({}, {}, {
      sandbox: { memoryMiB: 16, cpuTimeMs: 200, queueLimit: 100 },
      restart: { initialDelayMs: 10000, maxDelayMs: 10000, maxRestarts: 3, resetAfterMs: 60000 },
    });
    await kernel.start();
    try {
      mkdirSync(pluginsDir, { recursive: true });
      writeFileSync(join(pluginsDir, 'rogue.mjs'), misbehaving('rogue', body));
      await waitFor('rogue alive', () => kernel.bus.get('test/rogue/alive') === true);
      const events: unknown[] = [];
      kernel.bus.subscribe('ci/plugins/event', (m) => events.push(m.value));

      kernel.bus.publish('test/trigger', 1, KERNEL);
      // The kernel's bus keeps going round while the plugin misbehaves on its worker thread.
      const latencies = await kernelRoundTrips(kernel, 10);
      assert.equal(latencies.length, 10);

      const status = await waitFor('rogue to be stopped', () => {
        const s = kernel.plugins.list().find((p) => p.name === 'rogue');
        return s && s.state === 'restarting' ? s : undefined;
      });
      assert.match(status.error ?? '', expected);
      assert.equal(events.length, 1);
      assert.match((events[0] as { reason: string }).reason, expected);
      assert.ok(logs.find((l) => l.component === 'plugin:rogue' && l.msg === 'plugin failed and was stopped'), 'the failure is logged');
      // And the kernel still serves after the plugin is gone.
      assert.equal((await kernelRoundTrips(kernel, 3)).length, 3);
    } finally {
      await kernel.stop();
    }
  });
}

test('a failing plugin is restarted with back-off and stays failed after the restart limit', async () => {
  const { kernel, pluginsDir } = makeKernel({}, {}, {
    restart: { initialDelayMs: 30, maxDelayMs: 1000, maxRestarts: 2, resetAfterMs: 60000 },
  });
  await kernel.start();
  try {
    mkdirSync(pluginsDir, { recursive: true });
    // Fails during start, every time.
    writeFileSync(
      join(pluginsDir, 'flaky.mjs'),
      `import { definePlugin } from '@opensecc/plugin-api';
export default definePlugin({ manifest: { name: 'flaky', version: '1.0.0' }, start() { throw new Error('no luck'); } });`,
    );
    const status = await waitFor('flaky to give up', () => {
      const s = kernel.plugins.list().find((p) => p.name === 'flaky');
      return s && s.state === 'failed' ? s : undefined;
    });
    assert.equal(status.restarts, 2, 'restarted exactly maxRestarts times');
    assert.match(status.error ?? '', /no luck/);
  } finally {
    await kernel.stop();
  }
});

test('a sandboxed plugin reaches only the bus topics its manifest declares', async () => {
  const { kernel, pluginsDir } = makeKernel();
  await kernel.start();
  try {
    mkdirSync(pluginsDir, { recursive: true });
    writeFileSync(
      join(pluginsDir, 'nosy.mjs'),
      `import { definePlugin } from '@opensecc/plugin-api';
export default definePlugin({
  manifest: { name: 'nosy', version: '1.0.0', bus: { read: ['test/open'], write: ['test/nosy/#'] } },
  start(ctx) {
    let readDenied = false;
    try { ctx.bus.subscribe('ci/#', () => {}); } catch (e) { readDenied = /may not read/.test(String(e.message)); }
    ctx.bus.publish('ci/charging/enable', false);
    ctx.bus.publish('test/nosy/result', { readDenied, hasProcess: typeof process !== 'undefined', hasRequire: typeof require !== 'undefined' });
  },
});`,
    );
    const result = await waitFor('nosy result', () => kernel.bus.get<{ readDenied: boolean; hasProcess: boolean; hasRequire: boolean }>('test/nosy/result'));
    assert.deepEqual(result, { readDenied: true, hasProcess: false, hasRequire: false });
    assert.equal(kernel.bus.get('ci/charging/enable'), undefined, 'the undeclared write was refused');
  } finally {
    await kernel.stop();
  }
});
