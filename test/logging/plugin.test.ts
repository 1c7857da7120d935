import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Bus } from '@opensecc/plugin-api';
import { traceCan, traceSlac, traceV2g } from '@opensecc/core/trace/publish';
import { TRACE_TOPIC, traceTopics } from '@opensecc/core/trace/topics';
import { LOG_FILES as CORE_FILES } from '@opensecc/core/trace/files';
import { LOG_FILES as PLUGIN_FILES, TRACE_TOPICS } from '@opensecc/plugin-logging';
import { loggingApi, loggingKernel, readLines, waitFor } from './harness.js';

const SESSION_SETUP_REQ = '01fe800100000015809a02000000000000000011d01a121dc983cd6000';

test('core and the plugin agree on file names and trace topics', () => {
  assert.deepEqual(PLUGIN_FILES, CORE_FILES);
  assert.deepEqual(TRACE_TOPICS, TRACE_TOPIC);
});

test('the plugin writes the kernel log to a file (stdout keeps the JSON lines) and every trace, switchable live', async (t) => {
  const setup = loggingKernel({ traces: { v2g: true, slac: true, mqtt: true, can: true } });
  const { kernel, logDir } = setup;
  kernel.topics.add('kernel', traceTopics);
  t.after(() => kernel.stop());
  await kernel.start();
  assert.equal(kernel.plugins.list().find((p) => p.name === 'logging')?.state, 'running');
  const bus: Bus = kernel.bus.view({ kind: 'kernel', name: 'v2g' });

  // V2G, SLAC, CAN through the helpers the subsystems call; MQTT from any bus traffic.
  assert.equal(traceV2g(bus, { session: 'aabb', direction: 'rx', protocol: 'din', payloadType: 0x8001, hex: SESSION_SETUP_REQ, decoded: { V2G_Message: {} } }), true);
  assert.equal(traceSlac(bus, () => ({ direction: 'tx', bytes: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xe1]) })), true);
  assert.equal(traceCan(bus, { direction: 'rx', id: 0x7df, data: '0201050000000000' }), true);
  assert.equal(traceCan(bus, { direction: 'tx', iface: 'can1', id: 0x18daf110, bytes: Uint8Array.from([1, 2]) }), true);
  kernel.bus.publish('ci/test/text', 'hello world', { kind: 'external', name: 'mqtt' }, { retain: false });
  kernel.bus.publish('ci/test/object', { a: 1 }, { kind: 'external', name: 'mqtt' }, { retain: false });
  kernel.logs.for('slac').warn({ attempt: 2 }, 'matching retried');

  const flush = () => loggingApi(kernel).flush();
  await flush();
  const v2g = readLines(join(logDir, 'v2g.ndjson')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(v2g.length, 1);
  assert.equal(v2g[0]!.hex, SESSION_SETUP_REQ);
  assert.equal(v2g[0]!.session, 'aabb');
  assert.equal(typeof v2g[0]!.at, 'number');
  assert.equal(JSON.parse(readLines(join(logDir, 'slac.ndjson'))[0]!).hex, 'ffffffffffff02000000000188e1');
  const can = readLines(join(logDir, 'can.log'));
  assert.match(can[0]!, /^\(\d{10}\.\d{6}\) can0 7DF#0201050000000000$/);
  assert.match(can[1]!, /^\(\d{10}\.\d{6}\) can1 18DAF110#0102$/);
  const mqtt = readLines(join(logDir, 'mqtt.log'));
  assert.ok(mqtt.some((l) => /^\d{10}\.\d{9} ci\/test\/text hello world$/.test(l)), mqtt.join('\n'));
  assert.ok(mqtt.some((l) => /^\d{10}\.\d{9} ci\/test\/object \{"a":1\}$/.test(l)));
  assert.ok(!mqtt.some((l) => l.includes(' ci/trace/v2g ')), 'trace topics are not repeated in the MQTT trace');
  assert.ok(mqtt.some((l) => / ci\/global\/version\/charging_software \d+\.\d+\.\d+$/.test(l)), 'the retained firmware version is in the MQTT trace');
  const log = readLines(join(logDir, 'opensecc.log')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(log.some((l) => l.component === 'slac' && l.msg === 'matching retried' && l.level === 40));
  assert.ok(setup.stdout.text.includes('"msg":"matching retried"'), 'stdout still gets the JSON lines');

  // Live switch: V2G trace off, the helper stops publishing, the file gets nothing more.
  setup.writeConfig({ traces: { v2g: false, slac: true, mqtt: true, can: true } });
  await waitFor('ci/trace/enabled to show v2g off', () => kernel.bus.get<{ v2g: boolean }>(TRACE_TOPIC.enabled)?.v2g === false);
  assert.equal(traceV2g(bus, { session: 'aabb', direction: 'tx', protocol: 'din', payloadType: 0x8001, hex: SESSION_SETUP_REQ }), false);
  kernel.bus.publish(TRACE_TOPIC.v2g, { at: Date.now(), session: 'x', direction: 'rx', protocol: 'din', payloadType: 0x8001, hex: '00' }, { kind: 'kernel', name: 'v2g' }, { retain: false });
  await flush();
  assert.equal(readLines(join(logDir, 'v2g.ndjson')).length, 1);

  // And on again.
  setup.writeConfig({ traces: { v2g: true, slac: true, mqtt: true, can: true } });
  await waitFor('ci/trace/enabled to show v2g on', () => kernel.bus.get<{ v2g: boolean }>(TRACE_TOPIC.enabled)?.v2g === true);
  assert.equal(traceV2g(bus, { session: 'aabb', direction: 'tx', protocol: 'din', payloadType: 0x8001, hex: SESSION_SETUP_REQ }), true);
  await flush();
  assert.equal(readLines(join(logDir, 'v2g.ndjson')).length, 2);
});

test('moving the log directory live switches every file over without losing a line', async (t) => {
  const setup = loggingKernel({ traces: { v2g: true, slac: false, mqtt: false, can: false } });
  const { kernel, logDir, dir } = setup;
  t.after(() => kernel.stop());
  await kernel.start();
  const bus: Bus = kernel.bus.view({ kind: 'kernel', name: 'v2g' });
  const otherDir = join(dir, 'elsewhere');
  for (let i = 0; i < 5; i++) traceV2g(bus, { session: 's', direction: 'rx', protocol: 'din', payloadType: 0x8001, hex: '0a' });
  setup.writeConfig({ dir: otherDir, traces: { v2g: true, slac: false, mqtt: false, can: false } });
  await waitFor('the new directory', () => readLines(join(otherDir, 'opensecc.log')).length > 0 || undefined);
  for (let i = 0; i < 3; i++) traceV2g(bus, { session: 's', direction: 'rx', protocol: 'din', payloadType: 0x8001, hex: '0b' });
  await waitFor('3 records in the new directory', () => readLines(join(otherDir, 'v2g.ndjson')).length === 3);
  assert.equal(readLines(join(logDir, 'v2g.ndjson')).length, 5);
});

test('an invalid logging config keeps the plugin from starting, with the path and reason', async (t) => {
  const setup = loggingKernel({ rotateInterval: 'weekly' });
  t.after(() => setup.kernel.stop());
  await setup.kernel.start();
  const status = setup.kernel.plugins.list().find((p) => p.name === 'logging');
  assert.notEqual(status?.state, 'running');
  assert.match(status?.error ?? '', /rotateInterval/);
});

test('the trace helpers cost nothing and publish nothing while no trace is on', () => {
  const published: string[] = [];
  const bus = { get: () => undefined, publish: (topic: string) => void published.push(topic) } as unknown as Bus;
  let built = false;
  assert.equal(traceV2g(bus, () => ((built = true), { session: 's', direction: 'rx', protocol: 'din', payloadType: 0x8001, hex: '00' })), false);
  assert.equal(built, false, 'the lazy record is not built');
  assert.deepEqual(published, []);
});

test('records published right before the kernel stops are on disk after it stopped', async () => {
  const { kernel, logDir } = loggingKernel({ traces: { v2g: true, slac: false, mqtt: false, can: false } });
  await kernel.start();
  const bus: Bus = kernel.bus.view({ kind: 'kernel', name: 'v2g' });
  for (let i = 0; i < 200; i++) traceV2g(bus, { session: 'end', direction: i % 2 ? 'tx' : 'rx', protocol: 'din', payloadType: 0x8001, hex: SESSION_SETUP_REQ, decoded: { i } });
  await kernel.stop();
  const lines = readLines(join(logDir, 'v2g.ndjson')).map((l) => (JSON.parse(l) as { decoded: { i: number } }).decoded.i);
  assert.deepEqual(lines, Array.from({ length: 200 }, (_, i) => i));
});
