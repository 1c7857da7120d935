import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKernel, SHIPPED_PLUGINS_OFF, waitFor } from './harness.js';

const EXAMPLE = fileURLToPath(new URL('../../../docs/examples/session-counter.mjs', import.meta.url));
const KERNEL = { kind: 'kernel', name: 'test' } as const;

for (const sandbox of [true, false]) {
  test(`the documented example plugin works as written (${sandbox ? 'sandboxed' : 'in-process'})`, async () => {
    const { kernel, pluginsDir } = makeKernel(
      { plugins: { 'session-counter': { sandbox, config: { start: 5 } } , ...SHIPPED_PLUGINS_OFF } },
    );
    kernel.topics.add('test-cp', [
      { topic: 'ci/cp/state', direction: 'subscribeable-only', type: 'String', retained: true, schema: { enum: ['A', 'B', 'C', 'D', 'E', 'F'] }, description: 'test' },
    ]);
    await kernel.start();
    try {
      mkdirSync(pluginsDir, { recursive: true });
      copyFileSync(EXAMPLE, join(pluginsDir, 'session-counter.mjs'));
      await waitFor('count 5', () => kernel.bus.get('ext/session-counter/count') === 5);
      assert.equal(kernel.plugins.list().find((p) => p.name === 'session-counter')?.source, sandbox ? 'sandboxed' : 'hot-loaded');
      assert.equal(kernel.topics.get('ext/session-counter/count')?.type, 'Integer', 'its topic is in the registry');
      for (const state of ['B', 'C', 'B', 'C', 'D', 'C', 'B', 'A']) kernel.bus.publish('ci/cp/state', state, KERNEL);
      await waitFor('count 7', () => kernel.bus.get('ext/session-counter/count') === 7);
    } finally {
      await kernel.stop();
    }
  });
}
