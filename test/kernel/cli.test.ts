import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECC, spawnDaemon } from '#support/daemon.js';
import { SHIPPED_PLUGINS_OFF } from './harness.js';
import { COMMANDS } from '@opensecc/core/cli/commands/index';

function secc(args: string[], cwd = process.cwd()) {
  return spawnSync(process.execPath, [SECC, ...args], { cwd, encoding: 'utf8', timeout: 20000 });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'opensecc-cli-'));
}

test('secc --help lists the commands; an unknown command exits 2 with usage', () => {
  const help = secc(['--help']);
  assert.equal(help.status, 0);
  for (const command of ['start', 'config', 'plugin']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  const bad = secc(['frobnicate']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'frobnicate'/);
  assert.match(bad.stderr, /usage: secc <command>/);
});

test('every lazily loaded command is the one its entry names, with the same summary', async () => {
  const names = new Set<string>();
  for (const entry of COMMANDS) {
    const command = await entry.load();
    assert.equal(command.name, entry.name);
    assert.equal(command.summary, entry.summary, `summary of '${entry.name}' in commands/index.ts differs from the module's`);
    assert.ok(!names.has(entry.name), `'${entry.name}' listed twice`);
    names.add(entry.name);
  }
});

test('secc start with a bad option exits 2 and prints its usage line', () => {
  const result = secc(['start', '--colour', 'blue']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /Unknown option '--colour'/);
  assert.match(result.stderr, /^usage: secc start/m);
  assert.equal(secc(['start', '--control', 'smoke-signals']).status, 2);
});

test('secc config validate: 0 for a valid file, 1 with file, path and reason for an invalid one', () => {
  const dir = tempDir();
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ log: { level: 'debug', levels: { slac: 'trace' } } }));
  const ok = secc(['config', 'validate', good]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /valid/);

  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ log: { level: 'loud' }, pluginHost: { sandbox: { memoryMiB: 2 } } }));
  const result = secc(['config', 'validate', bad]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: /log/level: must be equal to one of the allowed values`, 'm'));
  assert.match(result.stderr, /\/pluginHost\/sandbox\/memoryMiB: must be >= 8/);

  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{\n  "log": {\n    "level": "info",\n  }\n}');
  const syntax = secc(['config', 'validate', broken]);
  assert.equal(syntax.status, 1);
  assert.match(syntax.stderr, /broken\.json: \(document\): not valid JSON \(line 4, column \d+\)/);

  assert.equal(secc(['config', 'validate']).status, 2);
  assert.equal(secc(['config', 'validate', join(dir, 'missing.json')]).status, 1);
});

test('secc start runs until SIGTERM and then exits 0 after a clean shutdown', async (t) => {
  const dir = tempDir();
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pluginHost: { watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
      plugins: SHIPPED_PLUGINS_OFF,
    }),
  );
  const daemon = spawnDaemon({ config, cwd: dir });
  // Whatever an assertion does, the daemon must not outlive the test.
  t.after(() => void daemon.stop('SIGKILL'));
  await daemon.waitFor(/"msg":"kernel ready"/, 15000);
  const listed = secc(['plugin', 'list', '--config', config, '--json'], dir);
  assert.equal(listed.status, 0);
  const states = (JSON.parse(listed.stdout) as Array<{ name: string; source: string; state: string }>).map((p) => [p.name, p.source, p.state]);
  assert.deepEqual(states, Object.keys(SHIPPED_PLUGINS_OFF).map((name) => [name, 'built-in', 'disabled']), 'live states of every shipped plugin');
  assert.equal(await daemon.stop(), 0);
  assert.match(daemon.stdout(), /"msg":"kernel stopped"/);
});
