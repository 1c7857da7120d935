/**
 * The ISO 15118-2 topics: registered next to DIN's without a clash, payloads validated by the
 * registry (good ones pass, bad ones are refused naming the problem), the config section's schema
 * valid, and the simulated AC EVSE publishing through them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { HLC, HLC_TOPICS } from '@opensecc/core/v2g/index';
import { ISO2, ISO2_TOPICS, iso2ConfigSchema, SimulatedAcEvse } from '@opensecc/core/v2g/iso2/index';
import { iso2Bus } from './helpers/harness.js';

test('every ISO 15118-2 topic is new, under ci/hlc/, and documented', () => {
  const din = new Set(HLC_TOPICS.map((t) => t.topic));
  for (const t of ISO2_TOPICS) {
    assert.ok(!din.has(t.topic), `${t.topic} clashes with a DIN topic`);
    assert.match(t.topic, /^ci\/hlc\/(session|ev|evse)\/[a-z_]+$/);
    assert.ok(t.description.length > 20, `${t.topic} has a description`);
    // What the customer writes is publishable, what the stack writes is subscribeable-only.
    assert.equal(t.direction, t.topic.startsWith('ci/hlc/evse/') ? 'publishable' : 'subscribeable-only', t.topic);
  }
  const { registry } = iso2Bus(); // registering both sets does not throw
  assert.ok(registry);
});

test('payloads are validated: good ones pass, bad ones are refused with the reason', () => {
  const { registry } = iso2Bus();
  const good: Array<[string, unknown]> = [
    [ISO2.evse.saSchedules, [{ id: 1, duration: 3600, entries: [{ start: 0, maxPower: { value: 11, multiplier: 3, unit: 'W' } }], salesTariff: { id: 1, entries: [{ start: 0, ePriceLevel: 1 }] } }]],
    [ISO2.evse.salesTariff, { id: 2, description: 'peak', numEPriceLevels: 3, entries: [{ start: 0, ePriceLevel: 3, relativePricePercentage: 120 }] }],
    [ISO2.evse.meterInfo, { meterId: 'M1', meterReading: 10, meterStatus: 0, tMeter: 1700000000 }],
    [ISO2.evse.acMaxCurrent, { value: 32, multiplier: 0, unit: 'A' }],
    [ISO2.evse.nominalVoltage, { value: 230, multiplier: 0, unit: 'V' }],
    [ISO2.evse.renegotiate, true],
    [ISO2.evse.rcd, false],
    [ISO2.ev.departureTime, 3600],
    [ISO2.ev.chargingProfile, [{ start: 0, maxPower: { value: 7, multiplier: 3, unit: 'W' }, maxPhases: 3 }]],
    [ISO2.session.paused, true],
  ];
  for (const [topic, value] of good) assert.equal(registry.validate(topic, value), undefined, topic);
  const bad: Array<[string, unknown, RegExp]> = [
    [ISO2.evse.saSchedules, [], /fewer than 1|minItems|must NOT have fewer/],
    [ISO2.evse.saSchedules, [{ id: 0, entries: [{ start: 0, maxPower: { value: 1, multiplier: 0, unit: 'W' } }] }], /id|>= 1/],
    [ISO2.evse.saSchedules, [{ id: 1, entries: [{ start: 0, maxPower: { value: 1, multiplier: 0, unit: 'A' } }] }], /unit|constant/],
    [ISO2.evse.meterInfo, { meterReading: 1 }, /meterId/],
    [ISO2.evse.acMaxCurrent, { value: 32, multiplier: 0, unit: 'V' }, /unit|constant/],
    [ISO2.evse.renegotiate, 'yes', /boolean/],
  ];
  for (const [topic, value, reason] of bad) {
    const error = registry.validate(topic, value);
    assert.ok(error, `${topic} ${JSON.stringify(value)} must be refused`);
    assert.match(error!, reason, `${topic}: ${error}`);
  }
});

test('the v2g.iso2 config schema compiles and fills its defaults', () => {
  const ajv = new Ajv({ useDefaults: true, strict: false });
  const validate = ajv.compile(iso2ConfigSchema);
  const config: Record<string, unknown> = {};
  assert.equal(validate(config), true);
  assert.deepEqual(config.energyTransferModes, ['DC_extended']);
  assert.equal(config.evseId, 'ZZ00000');
  assert.equal(validate({ energyTransferModes: ['AC_three_phase_core'], schedules: [{ id: 1, entries: [{ start: 0, maxPower: { value: 22, multiplier: 3, unit: 'W' } }] }] }), true);
  assert.equal(validate({ energyTransferModes: ['AC_four_phase'] }), false);
  // Contract is configurable since Plug & Charge (issue #10); it is offered only while the pnc plugin can serve it.
  assert.equal(validate({ paymentOptions: ['Contract', 'ExternalPayment'] }), true);
  assert.equal(validate({ paymentOptions: ['Cash'] }), false, 'only ExternalPayment and Contract exist');
});

test('the simulated AC EVSE publishes its limits and meters the energy while charging', async () => {
  const { bus } = iso2Bus();
  const evse = new SimulatedAcEvse({ bus, maxCurrent: 32, tickMs: 5 });
  evse.start();
  try {
    assert.deepEqual(bus.get(ISO2.evse.acMaxCurrent), { value: 320, multiplier: -1, unit: 'A' });
    assert.deepEqual(bus.get(ISO2.evse.nominalVoltage), { value: 230, multiplier: 0, unit: 'V' });
    assert.equal((bus.get(ISO2.evse.meterInfo) as { meterReading: number }).meterReading, 0);
    bus.publish(HLC.session.state, 'charging');
    await new Promise((resolve) => setTimeout(resolve, 300)); // 22 kW for 0.3 s ≈ 1.8 Wh
    bus.publish(HLC.session.state, 'stopped');
    const reading = (bus.get(ISO2.evse.meterInfo) as { meterReading: number }).meterReading;
    assert.ok(reading >= 1, `meter reading ${reading} Wh`);
    assert.ok(evse.energy >= reading);
  } finally {
    evse.stop();
  }
});
