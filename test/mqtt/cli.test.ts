import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createMqttCommand, mqttCommand } from '@opensecc/core/cli/commands/mqtt';
import { UsageError } from '@opensecc/core/cli/command';
import { testRegistry } from './support/stack.js';

const DOC = fileURLToPath(new URL('../../../docs/mqtt-api.md', import.meta.url));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  // The shared registry keeps the test fast; it is built by the same function the command uses.
  const command = createMqttCommand(() => testRegistry());
  const code = await command.run(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

test('secc mqtt topics --json prints the registry in the documented shape', async () => {
  const { code, stdout } = await run(['topics', '--json']);
  assert.equal(code, 0);
  const topics = JSON.parse(stdout) as Array<Record<string, unknown>>;
  assert.ok(Array.isArray(topics) && topics.length > 0);
  const ajv = new Ajv2020({ strict: false });
  for (const t of topics) {
    assert.equal(typeof t.topic, 'string');
    assert.ok(t.direction === 'publishable' || t.direction === 'subscribeable-only', `${t.topic}: direction`);
    assert.equal(typeof t.type, 'string');
    assert.ok(t.unit === undefined || typeof t.unit === 'string');
    assert.equal(typeof t.retained, 'boolean');
    assert.doesNotThrow(() => ajv.compile(t.schema as object), `${t.topic}: schema compiles`);
  }
  const byName = new Map(topics.map((t) => [t.topic as string, t]));
  assert.deepEqual(
    { ...byName.get('ci/global/version/charging_software'), schema: undefined, description: undefined },
    { topic: 'ci/global/version/charging_software', direction: 'subscribeable-only', type: 'String', retained: true, schema: undefined, description: undefined },
  );
  assert.equal(byName.get('ci/mqtt/error')?.retained, false);
  assert.deepEqual([...byName.keys()], [...byName.keys()].sort((a, b) => a.localeCompare(b)), 'sorted by topic');
});

test('secc mqtt: bad usage is a UsageError (exit 2)', async () => {
  await assert.rejects(() => mqttCommand.run(['nope'], { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() }), UsageError);
  await assert.rejects(() => run(['topics', '--bogus']), UsageError);
  await assert.rejects(() => run(['docs', '--check']), UsageError);
});

test('docs/mqtt-api.md is generated from the registry and up to date (npm run docs:mqtt)', async () => {
  const { code, stderr } = await run(['docs', '--out', DOC, '--check']);
  assert.equal(code, 0, stderr);
  const doc = readFileSync(DOC, 'utf8');
  assert.match(doc.split('\n')[0]!, /GENERATED/);
  for (const t of (await testRegistry()).list()) assert.ok(doc.includes(`\`${t.topic}\``), `${t.topic} documented`);
});
