import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeKernel, waitFor } from './harness.js';

/** A plugin source that publishes `tag` on a topic when started and stops cleanly. */
function pluginSource(name: string, tag: string): string {
  return `import { definePlugin } from '@opensecc/plugin-api';
export default definePlugin({
  manifest: { name: '${name}', version: '1.0.0', bus: { write: ['test/${name}/#'], read: ['test/ping'] } },
  start(ctx) {
    // Subscribed before announcing the start: the test pings as soon as it sees 'started'.
    const off = ctx.bus.subscribe('test/ping', (m) => ctx.bus.publish('test/${name}/pong', { tag: '${tag}', n: m.value }));
    ctx.bus.publish('test/${name}/started', '${tag}');
    return { stop() { off(); ctx.bus.publish('test/${name}/stopped', '${tag}'); } };
  },
});
`;
}

for (const sandbox of [false, true]) {
  const mode = sandbox ? 'sandboxed (isolated-vm)' : 'in-process';
  test(`hot load, reload and unload of a ${mode} plugin without restarting the kernel`, async () => {
    const { kernel, pluginsDir } = makeKernel({}, {}, { sandboxHotLoaded: sandbox });
    await kernel.start();
    try {
      const bystander: number[] = [];
      kernel.bus.subscribe('test/ping', (m) => bystander.push(m.value as number));
      const ping = (n: number) => kernel.bus.publish('test/ping', n, { kind: 'kernel', name: 'test' });

      mkdirSync(pluginsDir, { recursive: true });
      const file = join(pluginsDir, 'greeter.mjs');
      writeFileSync(file, pluginSource('greeter', 'v1'));
      await waitFor('v1 started', () => kernel.bus.get('test/greeter/started') === 'v1');
      const status = kernel.plugins.list().find((p) => p.name === 'greeter');
      assert.equal(status?.source, sandbox ? 'sandboxed' : 'hot-loaded');
      assert.equal(status?.state, 'running');
      ping(1);
      await waitFor('v1 pong', () => (kernel.bus.get<{ tag: string; n: number }>('test/greeter/pong')?.n === 1 ? true : undefined));
      assert.equal(kernel.bus.get<{ tag: string }>('test/greeter/pong')?.tag, 'v1');

      writeFileSync(file, pluginSource('greeter', 'v2'));
      await waitFor('v2 started', () => kernel.bus.get('test/greeter/started') === 'v2');
      assert.equal(kernel.bus.get('test/greeter/stopped'), 'v1', 'the old version was stopped before the new one started');
      ping(2);
      await waitFor('v2 pong', () => (kernel.bus.get<{ tag: string; n: number }>('test/greeter/pong')?.n === 2 ? true : undefined));
      assert.equal(kernel.bus.get<{ tag: string }>('test/greeter/pong')?.tag, 'v2', 'only the new version answers');

      rmSync(file);
      await waitFor('unload', () => !kernel.plugins.list().some((p) => p.name === 'greeter'));
      assert.equal(kernel.bus.get('test/greeter/stopped'), 'v2');
      ping(3);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(kernel.bus.get<{ n: number }>('test/greeter/pong')?.n, 2, 'an unloaded plugin answers no more');
      assert.deepEqual(bystander, [1, 2, 3], 'the kernel and other subscribers saw every message');
    } finally {
      await kernel.stop();
    }
  });
}

test('a hot-loaded plugin whose manifest name differs from its file name is refused with a reason', async () => {
  const { kernel, pluginsDir } = makeKernel();
  await kernel.start();
  try {
    mkdirSync(pluginsDir, { recursive: true });
    writeFileSync(join(pluginsDir, 'alpha.mjs'), pluginSource('beta', 'x'));
    const status = await waitFor('alpha to fail', () => {
      const s = kernel.plugins.list().find((p) => p.name === 'alpha');
      return s && s.error ? s : undefined;
    });
    assert.match(status.error ?? '', /manifest name 'beta' differs/);
    assert.equal(kernel.bus.get('test/beta/started'), undefined);
  } finally {
    await kernel.stop();
  }
});

test('a hot-loaded plugin in a folder (index.mjs) loads under the folder name', async () => {
  const { kernel, pluginsDir } = makeKernel();
  await kernel.start();
  try {
    mkdirSync(join(pluginsDir, 'folded'), { recursive: true });
    writeFileSync(join(pluginsDir, 'folded', 'index.mjs'), pluginSource('folded', 'f'));
    await waitFor('folded started', () => kernel.bus.get('test/folded/started') === 'f');
    assert.ok(existsSync(join(pluginsDir, 'folded', 'index.mjs')));
  } finally {
    await kernel.stop();
  }
});
