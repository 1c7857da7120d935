import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { BusValidationError } from '@opensecc/plugin-api';
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import fc from 'fast-check';
import { patternCovers, topicMatches } from '@opensecc/core/kernel/topic-match';
import { Lifecycle } from '@opensecc/core/kernel/lifecycle';
import { Backoff } from '@opensecc/core/plugins/backoff';

const ME = { kind: 'kernel', name: 'test' } as const;

test('topic patterns match as MQTT wildcards do', () => {
  assert.ok(topicMatches('ci/+/state', 'ci/cp/state'));
  assert.ok(!topicMatches('ci/+/state', 'ci/cp/x/state'));
  assert.ok(topicMatches('ci/#', 'ci/cp/state'));
  assert.ok(topicMatches('ci/#', 'ci'));
  assert.ok(!topicMatches('ci/cp', 'ci/cp/state'));
  assert.ok(patternCovers('ci/#', 'ci/+/state'));
  assert.ok(!patternCovers('ci/+/state', 'ci/#'));
  assert.ok(patternCovers('ci/+/state', 'ci/cp/state'));
  assert.ok(!patternCovers('ci/cp/state', 'ci/+/state'));
});

/** The definition, by splitting: what the in-place matcher must agree with on every input. */
function matchesBySplitting(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return i === p.length - 1;
    if (i >= t.length) return false;
    if (p[i] !== '+' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

test('topic matching agrees with the level-by-level definition on random patterns and topics', () => {
  // Few distinct level names, empty levels and wildcards anywhere, so that matches and near misses are common.
  const level = fc.constantFrom('', 'a', 'b', 'ci', 'cp', 'ab', '+', '#');
  const path = fc.array(level, { minLength: 1, maxLength: 5 }).map((levels) => levels.join('/'));
  fc.assert(
    fc.property(path, path, (pattern, topic) => {
      const cleanTopic = topic.replace(/[+#]/g, 'x');
      assert.equal(topicMatches(pattern, cleanTopic), matchesBySplitting(pattern, cleanTopic), `${pattern} vs ${cleanTopic}`);
    }),
    { numRuns: 20_000 },
  );
  assert.ok(topicMatches('a/#', 'a/'));
  assert.ok(!topicMatches('a/+', 'a'));
  assert.ok(topicMatches('a/+', 'a/'));
  assert.ok(!topicMatches('a/#/b', 'a/x/b'));
});

test('the bus retains per registry, validates against the schema, replays on subscribe', () => {
  const registry = new TopicRegistry();
  registry.add('t', [
    { topic: 'a/kept', direction: 'subscribeable-only', type: 'Integer', retained: true, schema: { type: 'integer', minimum: 0 }, description: '' },
    { topic: 'a/event', direction: 'subscribeable-only', type: 'String', retained: false, schema: { type: 'string' }, description: '' },
  ]);
  const bus = new KernelBus({ validate: (t, v) => registry.validate(t, v), retainPolicy: (t) => registry.retained(t) });
  bus.publish('a/kept', 3, ME);
  bus.publish('a/event', 'x', ME);
  assert.equal(bus.get('a/kept'), 3);
  assert.equal(bus.get('a/event'), undefined, 'events are not retained');
  assert.throws(() => bus.publish('a/kept', -1, ME), (e: Error) => e instanceof BusValidationError && /payload must be >= 0/.test(e.message));
  assert.equal(bus.get('a/kept'), 3, 'a refused value changes nothing');
  assert.throws(() => bus.publish('a/#', 1, ME), BusValidationError);
  const replayed: unknown[] = [];
  bus.subscribe('a/+', (m) => replayed.push([m.topic, m.value]), { replay: true });
  assert.deepEqual(replayed, [['a/kept', 3]]);
});

test('a throwing subscriber is reported and does not stop delivery to the others', () => {
  const errors: unknown[] = [];
  const bus = new KernelBus({ onHandlerError: (e) => errors.push(e) });
  const got: number[] = [];
  bus.subscribe('x', () => {
    throw new Error('bad');
  });
  bus.subscribe('#', (m) => got.push(m.value as number));
  bus.publish('x', 1, ME);
  assert.deepEqual(got, [1]);
  assert.equal(errors.length, 1);
});

test('lifecycle starts in dependency order, stops in reverse, and keeps stopping past a failure', async () => {
  const order: string[] = [];
  const life = new Lifecycle(pino({ level: 'silent' }));
  const component = (name: string, dependsOn: string[] = [], failStop = false) => ({
    name,
    dependsOn,
    start: () => void order.push(`start ${name}`),
    stop: () => {
      order.push(`stop ${name}`);
      if (failStop) throw new Error('stuck');
    },
  });
  life.add(component('v2g', ['charging']));
  life.add(component('charging', ['board'], true));
  life.add(component('board'));
  await life.startAll();
  await life.stopAll();
  assert.deepEqual(order, ['start board', 'start charging', 'start v2g', 'stop v2g', 'stop charging', 'stop board']);
  const cyclic = new Lifecycle(pino({ level: 'silent' }));
  cyclic.add(component('a', ['b']));
  cyclic.add(component('b', ['a']));
  await assert.rejects(cyclic.startAll(), /dependency cycle: a -> b -> a/);
});

test('back-off doubles up to the maximum and gives up after the limit within the window', () => {
  const backoff = new Backoff({ initialDelayMs: 100, maxDelayMs: 300, maxRestarts: 4, resetAfterMs: 1000 });
  assert.deepEqual([backoff.next(0), backoff.next(1), backoff.next(2), backoff.next(3), backoff.next(4)], [100, 200, 300, 300, undefined]);
  assert.equal(backoff.next(2000), 100, 'failures older than the window are forgotten');
});
