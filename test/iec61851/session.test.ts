import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Seen } from './harness.js';

/** Keep the values of the topics that tell the story of a session, dropping repeats per topic. */
function story(seen: readonly Seen[], topics: readonly string[]): string[] {
  return seen.filter((s) => topics.includes(s.topic)).map((s) => `${s.topic}=${JSON.stringify(s.value)}`);
}

test('basic AC session end to end in simulation: A -> B -> C -> charging -> B -> A', async () => {
  const h = await createHarness({ config: { maxCurrentA: 16 }, ev: { cableMaxCurrentA: 32 } });
  try {
    const start = h.seen.length;
    h.ev.plugIn();
    await h.until('PWM offered', () => h.controller.chargingState === 'ready');
    assert.deepEqual(h.ev.offer, { kind: 'current', amps: 16 });
    h.ev.requestPower();
    await h.until('charging', () => h.controller.chargingState === 'charging');
    assert.equal(h.board.contactorIsClosed, true);
    h.ev.stopPower();
    await h.until('stopped', () => h.controller.chargingState === 'ready' && h.controller.contactorState === 'open');
    h.ev.unplug();
    await h.until('idle', () => h.controller.chargingState === 'idle' && h.controller.plugLockState === 'unlocked');

    const session = h.seen.slice(start);
    assert.deepEqual(story(session, ['ci/cp/state']), ['B', 'C', 'B', 'A'].map((v) => `ci/cp/state="${v}"`));
    assert.deepEqual(story(session, ['ci/charging/state']), [
      'connected', 'ready', 'starting', 'charging', 'stopping', 'ready', 'idle',
    ].map((v) => `ci/charging/state="${v}"`));
    assert.deepEqual(story(session, ['ci/contactor/state']), ['closing', 'closed', 'opening', 'open'].map((v) => `ci/contactor/state="${v}"`));
    assert.deepEqual(story(session, ['ci/plug_lock/state']), ['locking', 'locked', 'unlocking', 'unlocked'].map((v) => `ci/plug_lock/state="${v}"`));
    assert.deepEqual(story(session, ['ci/cp/duty_cycle']), ['ci/cp/duty_cycle=26.7', 'ci/cp/duty_cycle=100']);
    assert.deepEqual(story(session, ['ci/pp/max_current']), ['ci/pp/max_current=32', 'ci/pp/max_current=null']);

    // The interleaving across topics, in the order a subscriber sees it.
    const key = story(session, ['ci/cp/state', 'ci/cp/duty_cycle', 'ci/contactor/state', 'ci/charging/state', 'ci/plug_lock/state']);
    const expectOrder = [
      'ci/cp/state="B"',
      'ci/plug_lock/state="locked"',
      'ci/cp/duty_cycle=26.7',
      'ci/charging/state="ready"',
      'ci/cp/state="C"',
      'ci/contactor/state="closing"',
      'ci/contactor/state="closed"',
      'ci/charging/state="charging"',
      'ci/cp/state="B"',
      'ci/contactor/state="opening"',
      'ci/contactor/state="open"',
      'ci/cp/state="A"',
      'ci/cp/duty_cycle=100',
      'ci/charging/state="idle"',
      'ci/plug_lock/state="unlocked"',
    ];
    let at = -1;
    for (const item of expectOrder) {
      const next = key.indexOf(item, at + 1);
      assert.ok(next > at, `${item} after position ${at} in:\n${key.join('\n')}`);
      at = next;
    }
    assert.deepEqual(h.values('ci/error/event'), []);
    assert.deepEqual(h.handlerErrors, []);
  } finally {
    await h.dispose();
  }
});

test('every topic the controller publishes is registered and was validated by the registry', async () => {
  const h = await createHarness();
  try {
    h.ev.plugIn();
    await h.until('ready', () => h.controller.chargingState === 'ready');
    for (const topic of new Set(h.seen.map((s) => s.topic))) {
      assert.ok(h.registry.get(topic), `${topic} is registered`);
      assert.equal(h.registry.get(topic)!.direction, 'subscribeable-only', `${topic} is written by the stack`);
    }
    const publishable = h.registry.list().filter((t) => t.direction === 'publishable').map((t) => t.topic);
    assert.deepEqual(publishable, ['ci/charging/ac_max_current', 'ci/charging/enable']);
  } finally {
    await h.dispose();
  }
});
