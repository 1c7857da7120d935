import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import { SimulatedBoard } from '@opensecc/core/hal/index';
import {
  DEFAULT_IEC61851_CONFIG,
  Iec61851ConfigError,
  Iec61851Controller,
  iec61851Topics,
  resolveIec61851Config,
} from '@opensecc/core/iec61851/index';

test('config: defaults apply, bad values name the field', () => {
  assert.deepEqual(resolveIec61851Config(), DEFAULT_IEC61851_CONFIG);
  assert.equal(resolveIec61851Config({ maxCurrentA: 16 }).maxCurrentA, 16);
  assert.throws(() => resolveIec61851Config({ maxCurrentA: 100 }), (error: unknown) => {
    assert.ok(error instanceof Iec61851ConfigError);
    assert.equal(error.field, 'maxCurrentA');
    assert.match(error.message, /charging\.maxCurrentA: must be a number from 6 to 80, got 100/);
    return true;
  });
  assert.throws(() => resolveIec61851Config({ cable: 'wireless' as 'socket' }), /charging\.cable/);
  assert.throws(
    () => new Iec61851Controller({ board: new SimulatedBoard(), bus: new KernelBus().view({ kind: 'kernel', name: 't' }), log: pino({ level: 'silent' }), config: { evStopTimeoutMs: -1 } }),
    Iec61851ConfigError,
  );
});

test('topics: every schema compiles and checks what the description promises', () => {
  const registry = new TopicRegistry();
  registry.add('iec61851', iec61851Topics);
  assert.equal(registry.validate('ci/cp/state', 'C'), undefined);
  assert.match(registry.validate('ci/cp/state', 'G') ?? '', /payload/);
  assert.equal(registry.validate('ci/pp/max_current', null), undefined);
  assert.ok(registry.validate('ci/charging/ac_max_current', 81));
  assert.ok(registry.validate('ci/charging/ac_max_current', -1));
  assert.equal(registry.validate('ci/charging/ac_max_current', 12.5), undefined);
  assert.ok(registry.validate('ci/error/event', { code: 'x' }));
  assert.equal(registry.validate('ci/error/active', [{ code: 'x', message: 'y', since: new Date(0).toISOString() }]), undefined);
  assert.equal(registry.retained('ci/error/event'), false);
  for (const definition of iec61851Topics) assert.ok(definition.description.length > 20, definition.topic);
});
