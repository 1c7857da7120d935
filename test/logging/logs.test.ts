import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logsCommand } from '@opensecc/core/cli/commands/logs';
import { UsageError } from '@opensecc/core/cli/command';
import { followLogs, tailLogs } from '@opensecc/core/trace/log-view';
import { RotatingFile } from '@opensecc/plugin-logging/rotating-file';
import { captureIO, tempDir, waitFor } from './harness.js';

const entry = (n: number, component: string, level: number) => JSON.stringify({ level, time: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`, pid: 1, component, msg: `line ${n}`, n });

function logDir(): string {
  const dir = tempDir();
  const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i).map((n) => entry(n, n % 3 === 0 ? 'slac' : n % 3 === 1 ? 'plugin:mqtt-api' : 'kernel', n % 2 ? 30 : 50)).join('\n') + '\n';
  writeFileSync(join(dir, 'opensecc.log.2'), lines(0, 10));
  writeFileSync(join(dir, 'opensecc.log.1'), lines(10, 20));
  writeFileSync(join(dir, 'opensecc.log'), lines(20, 30) + 'not json\n');
  return dir;
}

test('secc logs: the last N lines over the rotated files, filtered by component and level', async () => {
  const dir = logDir();
  const all = captureIO();
  assert.equal(await logsCommand.run(['--dir', dir, '-n', '5'], all), 0);
  assert.deepEqual(all.out.text.trim().split('\n').map((l) => /line (\d+)/.exec(l)![1]), ['25', '26', '27', '28', '29']);
  assert.match(all.out.text, /^2026-01-01T00:00:25.000Z INFO  plugin:mqtt-api: line 25 \{"n":25\}$/m);

  const slacErrors = captureIO();
  assert.equal(await logsCommand.run(['--dir', dir, '-n', '4', '--component', 'slac', '--level', 'error', '--json'], slacErrors), 0);
  const picked = slacErrors.out.text.trim().split('\n').map((l) => JSON.parse(l) as { n: number; component: string; level: number });
  assert.deepEqual(picked.map((l) => l.n), [6, 12, 18, 24], 'across the archives, oldest first');
  assert.ok(picked.every((l) => l.component === 'slac' && l.level === 50));

  const plugins = tailLogs(dir, { components: ['plugin:*'] }, 100);
  assert.equal(plugins.length, 10);
  assert.ok(plugins.every((l) => l.component === 'plugin:mqtt-api'));
});

test('secc logs: bad options are usage errors', async () => {
  await assert.rejects(logsCommand.run(['--level', 'loud', '--dir', tempDir()], captureIO()), (e: unknown) => e instanceof UsageError && /--level must be one of/.test(e.message));
  await assert.rejects(logsCommand.run(['-n', 'x', '--dir', tempDir()], captureIO()), UsageError);
  await assert.rejects(logsCommand.run(['--bogus'], captureIO()), UsageError);
  const none = captureIO();
  assert.equal(await logsCommand.run(['--dir', tempDir()], none), 1);
  assert.match(none.err.text, /no log file in .*logging plugin enabled/);
});

test('following the log sees every new line, across rotations', async () => {
  const dir = tempDir();
  const file = new RotatingFile({ path: join(dir, 'opensecc.log'), maxBytes: 300, maxFiles: 3, intervalMs: 0, maxQueueBytes: 1 << 20 });
  file.write(entry(-1, 'kernel', 30)); // before following: not shown
  await file.flush();
  const seen: number[] = [];
  const controller = new AbortController();
  const following = followLogs(dir, (line) => seen.push((JSON.parse(line) as { n: number }).n), controller.signal, 20);
  await new Promise((r) => setTimeout(r, 60));
  const total = 40; // about 100 bytes each: a rotation every three lines
  for (let n = 0; n < total; n++) {
    file.write(entry(n, 'kernel', 30));
    await file.flush();
    // Give the follower a look at each file before it rotates away twice (maxFiles 3).
    if (n % 2 === 1) await waitFor(`line ${n}`, () => seen.includes(n));
  }
  await waitFor('the last line', () => seen.includes(total - 1));
  controller.abort();
  await following;
  await file.close();
  assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i));
});
