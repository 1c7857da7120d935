import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, type PluginDefinition } from '@opensecc/plugin-api';
import { makeKernel, SHIPPED_PLUGINS_OFF, waitFor } from './harness.js';

test('a disabled built-in plugin is never loaded, and a disabled hot-loaded one never evaluated', async () => {
  let loads = 0;
  const marker = (dir: string) => join(dir, 'evaluated');
  const { kernel, pluginsDir, dir } = makeKernel(
    { plugins: { heavy: { enabled: false }, dropped: { enabled: false } , ...SHIPPED_PLUGINS_OFF } },
    {
      builtInPlugins: [
        {
          name: 'heavy',
          load: async () => {
            loads++;
            return definePlugin({ manifest: { name: 'heavy', version: '1.0.0' }, start() {} });
          },
        },
      ],
    },
    { sandboxHotLoaded: false },
  );
  mkdirSync(pluginsDir, { recursive: true });
  // Its top level writes a file: if it were imported at all, the file would exist.
  writeFileSync(
    join(pluginsDir, 'dropped.mjs'),
    `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(marker(dir))}, 'x');
export default { manifest: { name: 'dropped', version: '1' }, start() {} };`,
  );
  await kernel.start();
  try {
    await waitFor('dropped listed', () => kernel.plugins.list().find((p) => p.name === 'dropped'));
    assert.equal(loads, 0, 'the built-in module was not imported');
    assert.equal(existsSync(marker(dir)), false, 'the hot-loaded module was not evaluated');
    const states = Object.fromEntries(kernel.plugins.list().map((p) => [p.name, p.state]));
    assert.equal(states.heavy, 'disabled');
    assert.equal(states.dropped, 'disabled');
  } finally {
    await kernel.stop();
  }
});

test('built-in plugins start in dependency order, use what others provide, stop in reverse', async () => {
  const order: string[] = [];
  const make = (name: string, provides: string[], requires: string[]): PluginDefinition =>
    definePlugin({
      manifest: { name, version: '1.0.0', provides, requires },
      start(ctx) {
        order.push(`start ${name}`);
        const used = requires.map((c) => (ctx.use<{ who: string }>(c)).who);
        return { api: { who: name, used }, stop: () => void order.push(`stop ${name}`) };
      },
    });
  const plugins = [make('consumer', [], ['greeting']), make('provider', ['greeting'], ['bus'])];
  const { kernel } = makeKernel({}, { builtInPlugins: plugins.map((p) => ({ name: p.manifest.name, load: async () => p })) });
  await kernel.start();
  const states = Object.fromEntries(kernel.plugins.list().map((p) => [p.name, p.state]));
  assert.equal(states.consumer, 'running');
  await kernel.stop();
  assert.deepEqual(order, ['start provider', 'start consumer', 'stop consumer', 'stop provider']);
});

test('a plugin that requires a capability nobody provides does not start and says why', async () => {
  const lonely = definePlugin({ manifest: { name: 'lonely', version: '1.0.0', requires: ['warp-drive'] }, start() {} });
  const { kernel } = makeKernel({}, { builtInPlugins: [{ name: 'lonely', load: async () => lonely }] });
  await kernel.start();
  try {
    const status = kernel.plugins.list().find((p) => p.name === 'lonely')!;
    assert.notEqual(status.state, 'running');
    assert.match(status.error ?? '', /requires 'warp-drive', which nothing running provides/);
  } finally {
    await kernel.stop();
  }
});

test('an in-process plugin whose bus handler throws is reported and the publisher is unaffected', async () => {
  const brittle = definePlugin({
    manifest: { name: 'brittle', version: '1.0.0', bus: { read: ['test/in'] } },
    start(ctx) {
      ctx.bus.subscribe('test/in', () => {
        throw new Error('handler broke');
      });
    },
  });
  const { kernel, logs } = makeKernel({}, { builtInPlugins: [{ name: 'brittle', load: async () => brittle }] });
  await kernel.start();
  try {
    const after: unknown[] = [];
    kernel.bus.subscribe('test/in', (m) => after.push(m.value));
    assert.doesNotThrow(() => kernel.bus.publish('test/in', 1, { kind: 'kernel', name: 'test' }));
    assert.deepEqual(after, [1], 'later subscribers still got the message');
    await waitFor('log line', () => logs.find((l) => l.component === 'plugin:brittle' && /handler threw/.test(String(l.msg))));
  } finally {
    await kernel.stop();
  }
});

test('the plugin status file lists source and state for `secc plugin list`', async () => {
  const quiet = definePlugin({ manifest: { name: 'quiet', version: '2.0.0' }, start() {} });
  const { kernel, dir } = makeKernel({}, { builtInPlugins: [{ name: 'quiet', load: async () => quiet }] });
  await kernel.start();
  try {
    const status = JSON.parse(readFileSync(join(dir, 'run', 'plugins.json'), 'utf8')) as { pid: number; plugins: Array<Record<string, unknown>> };
    assert.equal(status.pid, process.pid);
    assert.deepEqual(status.plugins.find((p) => p.name === 'quiet'), { name: 'quiet', version: '2.0.0', source: 'built-in', state: 'running', restarts: 0 });
  } finally {
    await kernel.stop();
  }
});
