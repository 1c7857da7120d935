import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PayloadDecodeError, TopicCodec, excerpt, wireFormatOf } from '@opensecc/plugin-mqtt-api';

const text = (codec: TopicCodec, payload: string) => codec.decode(Buffer.from(payload, 'utf8'));

test('scalar topics travel as plain text: strings raw, numbers and booleans as JSON text', () => {
  const state = new TopicCodec('ci/cp/state', { enum: ['A', 'B', 'C'] });
  assert.equal(state.format, 'text');
  assert.equal(state.encode('B').toString(), 'B');
  assert.equal(text(state, 'B'), 'B');

  const amps = new TopicCodec('ci/charging/ac_max_current', { type: 'number', minimum: 0 });
  assert.equal(amps.encode(16).toString(), '16');
  assert.equal(amps.encode(6.5).toString(), '6.5');
  assert.equal(text(amps, '16'), 16);
  assert.equal(text(amps, '-1e3'), -1000);
  for (const bad of ['16A', ' 16', '+16', '0x10', 'NaN', '"16"']) {
    assert.throws(() => text(amps, bad), PayloadDecodeError, bad);
  }
  assert.throws(() => text(amps, '1e999'), /out of range/);

  const enable = new TopicCodec('ci/charging/enable', { type: 'boolean' });
  assert.equal(enable.encode(false).toString(), 'false');
  assert.equal(text(enable, 'true'), true);
  assert.throws(() => text(enable, '1'), /expected boolean as plain text/);
});

test('an empty payload is "unset": empty string where strings are allowed, else null', () => {
  const url = new TopicCodec('firmware/update/target/url', { type: 'string' });
  assert.equal(text(url, ''), '');
  const rating = new TopicCodec('ci/pp/max_current', { type: ['number', 'null'] });
  assert.equal(text(rating, ''), null);
  assert.equal(rating.encode(null).length, 0);
  // The seed's "integer, or empty string" topics (firmware max_trials).
  const trials = new TopicCodec('firmware/update/target/max_trials', { anyOf: [{ type: 'integer' }, { type: 'string', const: '' }] });
  assert.equal(trials.format, 'text');
  assert.equal(text(trials, '3'), 3);
  assert.equal(text(trials, ''), '');
  assert.equal(text(trials, 'three'), 'three', 'left for the schema to refuse');
});

test('object and array topics travel as JSON', () => {
  const errors = new TopicCodec('ci/error/active', { type: 'array', items: { type: 'object' } });
  assert.equal(errors.format, 'json');
  assert.equal(wireFormatOf({ type: 'object' }), 'json');
  const value = [{ code: 'rcd_trip', message: 'RCD tripped', since: '2026-01-01T00:00:00Z' }];
  assert.deepEqual(errors.decode(errors.encode(value)), value);
  assert.throws(() => text(errors, '[{'), /payload is not JSON/);
});

test('a payload that is not UTF-8 is refused by every codec, and excerpts show it as hex', () => {
  const bytes = Buffer.from([0xc3, 0x28, 0xff]);
  for (const schema of [{ type: 'string' }, { type: 'object' }, { type: 'number' }]) {
    assert.throws(() => new TopicCodec('t', schema).decode(bytes), /not valid UTF-8/);
  }
  assert.equal(excerpt(bytes), 'hex:c328ff');
  assert.equal(excerpt('x'.repeat(300)).length, 201);
});
