import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { currentFromDuty, dutyForCurrent } from '@opensecc/core/iec61851/index';

test('duty from current follows IEC 61851-1 Annex A', () => {
  assert.equal(dutyForCurrent(6), 10);
  assert.equal(dutyForCurrent(16), 26.7);
  assert.equal(dutyForCurrent(32), 53.3);
  assert.equal(dutyForCurrent(51), 85);
  assert.equal(dutyForCurrent(52), 84.8); // 52 / 2.5 + 64
  assert.equal(dutyForCurrent(63), 89.2);
  assert.equal(dutyForCurrent(80), 96);
});

test('below 6 A no current duty exists; above 80 A it is capped', () => {
  assert.equal(dutyForCurrent(5.9), undefined);
  assert.equal(dutyForCurrent(0), undefined);
  assert.equal(dutyForCurrent(Number.NaN), undefined);
  assert.equal(dutyForCurrent(120), 96);
});

test('an EV reads the duty back (Table A.8)', () => {
  assert.deepEqual(currentFromDuty(5), { kind: 'hlc' });
  assert.deepEqual(currentFromDuty(100), { kind: 'none' });
  assert.deepEqual(currentFromDuty(0), { kind: 'none' });
  assert.deepEqual(currentFromDuty(7.5), { kind: 'none' });
  assert.deepEqual(currentFromDuty(9), { kind: 'current', amps: 6 });
  assert.deepEqual(currentFromDuty(50), { kind: 'current', amps: 30 });
  assert.deepEqual(currentFromDuty(90), { kind: 'current', amps: 65 });
  assert.deepEqual(currentFromDuty(96.5), { kind: 'current', amps: 80 });
});

test('current -> duty -> current: the EV never reads more than offered, and reads it back closely', () => {
  fc.assert(
    fc.property(fc.double({ min: 6, max: 80, noNaN: true }), (amps) => {
      const duty = dutyForCurrent(amps);
      assert.ok(duty !== undefined && duty >= 10 && duty <= 96);
      const back = currentFromDuty(duty);
      assert.ok(back.kind === 'current', `${amps} A -> ${duty} %`);
      // Safety: rounding the duty to 0.1 % may cost the EV a little current, never give it more.
      assert.ok(back.amps <= amps + 0.3, `${amps} A -> ${duty} % -> ${back.amps} A`);
      // Annex A's two formulas overlap just above 51 A (84.4..85 % read back with the 0.6 factor),
      // where the EV reads up to 1.5 A less; elsewhere the round trip is within the duty resolution.
      const tolerance = amps > 51 && amps < 52.75 ? 1.6 : 0.3; // 52.74 A still rounds to 85.0 %
      assert.ok(Math.abs(back.amps - amps) <= tolerance, `${amps} A -> ${duty} % -> ${back.amps} A`);
    }),
  );
});
