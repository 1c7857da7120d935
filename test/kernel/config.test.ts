import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { definePlugin } from '@opensecc/plugin-api';
import { makeKernel, waitFor } from './harness.js';

function editConfig(file: string, edit: (doc: Record<string, any>) => void): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  edit(doc);
  writeFileSync(file, JSON.stringify(doc, null, 2));
}

test('a valid config edit applies live: log levels per component change without a restart', async () => {
  const { kernel, configFile } = makeKernel();
  await kernel.start();
  try {
    assert.equal(kernel.logs.for('slac').level, 'info');
    editConfig(configFile, (doc) => (doc.log = { level: 'warn', levels: { slac: 'debug' } }));
    await waitFor('new levels', () => kernel.logs.for('slac').level === 'debug');
    assert.equal(kernel.logs.for('v2g').level, 'warn');
  } finally {
    await kernel.stop();
  }
});

for (const [what, write] of [
  ['a schema violation', (file: string) => editConfig(file, (doc) => (doc.log = { level: 'loud' }))],
  ['broken JSON', (file: string) => writeFileSync(file, '{ "log": { "level": "debug" ')],
  ['an invalid plugin config', (file: string) => editConfig(file, (doc) => (doc.plugins.tuned = { config: { gain: 'high' } }))],
] as const) {
  test(`an invalid config edit (${what}) is rejected, named, and the old config stays in force`, async () => {
    const tuned = definePlugin({
      manifest: { name: 'tuned', version: '1.0.0', configSchema: { type: 'object', properties: { gain: { type: 'integer', default: 3 } } } },
      start() {},
    });
    const { kernel, configFile, logs } = makeKernel({}, { builtInPlugins: [{ name: 'tuned', load: async () => tuned }] });
    await kernel.start();
    try {
      const before = structuredClone(kernel.config.current);
      assert.equal((before.plugins.tuned!.config as { gain: number }).gain, 3, 'schema default applied');
      const errors: unknown[] = [];
      kernel.bus.subscribe('ci/config/error', (m) => errors.push(m.value));
      write(configFile);
      await waitFor('the rejection', () => errors.length > 0);
      const { problems } = errors[0] as { problems: Array<{ file: string; path: string; reason: string }> };
      assert.equal(problems[0]!.file, configFile, 'the problem names the file');
      if (what === 'a schema violation') {
        assert.equal(problems[0]!.path, '/log/level');
        assert.match(problems[0]!.reason, /must be equal to one of the allowed values/);
      } else if (what === 'broken JSON') {
        assert.match(problems[0]!.reason, /not valid JSON \(line \d+, column \d+\)/);
      } else {
        assert.equal(problems[0]!.path, '/plugins/tuned/config/gain');
        assert.match(problems[0]!.reason, /must be integer/);
      }
      assert.ok(logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('config change rejected')));
      assert.deepEqual(kernel.config.current, before, 'the running config is unchanged');
      assert.equal(kernel.logs.for('kernel').level, 'info');
    } finally {
      await kernel.stop();
    }
  });
}

test('persisted settings are written atomically and validated first', async () => {
  const { kernel, configFile } = makeKernel();
  await kernel.start();
  try {
    await kernel.config.persist((doc) => ((doc.log as Record<string, unknown>).level = 'debug'));
    assert.equal(JSON.parse(readFileSync(configFile, 'utf8')).log.level, 'debug');
    assert.equal(kernel.config.current.log.level, 'debug');
    await assert.rejects(
      kernel.config.persist((doc) => ((doc.log as Record<string, unknown>).level = 'nope')),
      (error: Error) => error.name === 'ConfigError' && /\/log\/level/.test(error.message),
    );
    assert.equal(JSON.parse(readFileSync(configFile, 'utf8')).log.level, 'debug', 'the file was not touched');
    assert.deepEqual(readdirSync(dirname(configFile)).filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
  } finally {
    await kernel.stop();
  }
});

test('a plugin with a config handler receives live config changes', async () => {
  const seen: unknown[] = [];
  const tuned = definePlugin<{ gain: number }>({
    manifest: { name: 'tuned', version: '1.0.0', configSchema: { type: 'object', properties: { gain: { type: 'integer', default: 3 } } } },
    start(ctx) {
      seen.push(ctx.config.gain);
      ctx.onConfigChange((config) => void seen.push(config.gain));
    },
  });
  const { kernel, configFile } = makeKernel({}, { builtInPlugins: [{ name: 'tuned', load: async () => tuned }] });
  await kernel.start();
  try {
    editConfig(configFile, (doc) => (doc.plugins.tuned = { config: { gain: 7 } }));
    await waitFor('gain 7', () => seen.includes(7));
    assert.deepEqual(seen, [3, 7]);
  } finally {
    await kernel.stop();
  }
});
