import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startAedes } from './support/brokers.js';
import { Observer } from './support/observer.js';

test('when the stack dies without goodbye, the broker publishes ci/mqtt/online=false (last will)', async () => {
  const broker = await startAedes();
  const child = spawn(process.execPath, [fileURLToPath(new URL('./support/child-stack.js', import.meta.url)), broker.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [ready] = (await once(child.stdout!, 'data')) as [Buffer];
    assert.equal(ready.toString().trim(), 'ready');
    const app = await Observer.connect(broker.url, ['ci/mqtt/online']);
    try {
      await app.waitFor('online', (m) => m.payload === 'true');
      child.kill('SIGKILL');
      const offline = await app.waitFor('offline by last will', (m) => m.payload === 'false');
      assert.equal(offline.topic, 'ci/mqtt/online');
      const late = await Observer.connect(broker.url, ['ci/mqtt/online']);
      const kept = await late.waitFor('retained offline', () => true);
      assert.deepEqual([kept.payload, kept.retain], ['false', true]);
      await late.close();
    } finally {
      await app.close();
    }
  } finally {
    child.kill('SIGKILL');
    await broker.stop();
  }
});
