import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RotatingFile } from '@opensecc/plugin-logging/rotating-file';
import { rotatedFiles } from '@opensecc/core/trace/files';
import { readLines, tempDir } from './harness.js';

const line = (n: number) => JSON.stringify({ seq: n, msg: 'x'.repeat(n % 37) });
const seqOf = (text: string) => (JSON.parse(text) as { seq: number }).seq;

test('rotation keeps exactly maxFiles files, each within maxBytes, ending with the newest lines in order', async () => {
  const dir = tempDir();
  const path = join(dir, 'opensecc.log');
  const file = new RotatingFile({ path, maxBytes: 4096, maxFiles: 4, intervalMs: 0, maxQueueBytes: 64 << 20 });
  const total = 5000;
  for (let n = 0; n < total; n++) assert.equal(file.write(line(n)), true);
  await file.close();
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, ['opensecc.log', 'opensecc.log.1', 'opensecc.log.2', 'opensecc.log.3']);
  for (const name of files) assert.ok(statSync(join(dir, name)).size <= 4096, `${name} is larger than maxBytes`);
  // Oldest to newest, the kept lines are one gap-free run that ends with the last line written.
  const kept = rotatedFiles(dir, 'opensecc.log').flatMap(readLines).map(seqOf);
  assert.ok(kept.length > 100);
  assert.equal(kept[kept.length - 1], total - 1);
  kept.forEach((seq, i) => assert.equal(seq, kept[0]! + i, `line ${i} of the kept files breaks the sequence`));
  assert.equal(file.dropped, 0);
});

test('no line is lost or cut across rotations', async () => {
  const dir = tempDir();
  const path = join(dir, 'v2g.ndjson');
  const file = new RotatingFile({ path, maxBytes: 2000, maxFiles: 1000, intervalMs: 0, maxQueueBytes: 64 << 20 });
  const total = 3000;
  // Written in bursts with awaits between, so rotations happen while lines keep arriving.
  for (let n = 0; n < total; n++) {
    file.write(line(n));
    if (n % 97 === 0) await new Promise((r) => setImmediate(r));
  }
  await file.close();
  const paths = rotatedFiles(dir, 'v2g.ndjson');
  assert.ok(paths.length > 20, `expected many rotations, got ${paths.length} files`);
  const seqs = paths.flatMap(readLines).map(seqOf); // JSON.parse throws on a cut line
  assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i));
  assert.equal(file.written, total);
});

test('a line longer than maxBytes gets a file of its own and is not split', async () => {
  const dir = tempDir();
  const path = join(dir, 'big.log');
  const file = new RotatingFile({ path, maxBytes: 100, maxFiles: 10, intervalMs: 0, maxQueueBytes: 1 << 20 });
  file.write('short');
  file.write('L'.repeat(500));
  file.write('after');
  await file.close();
  const all = rotatedFiles(dir, 'big.log').map(readLines);
  assert.deepEqual(all.flat(), ['short', 'L'.repeat(500), 'after']);
  assert.ok(all.some((lines) => lines.length === 1 && lines[0] === 'L'.repeat(500)));
});

test('time rotation starts a new file once the interval has passed', async () => {
  const dir = tempDir();
  const path = join(dir, 'mqtt.log');
  const file = new RotatingFile({ path, maxBytes: 1 << 20, maxFiles: 5, intervalMs: 100, maxQueueBytes: 1 << 20 });
  file.write('first');
  await file.flush();
  // Real timers: wait until the periodic check has rotated the non-empty file.
  const start = Date.now();
  while (rotatedFiles(dir, 'mqtt.log').length < 2 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
  file.write('second');
  await file.close();
  assert.deepEqual(rotatedFiles(dir, 'mqtt.log').map(readLines), [['first'], ['second']]);
});

test('a full queue drops and counts lines instead of blocking, and says so in the file', async () => {
  const dir = tempDir();
  const path = join(dir, 'opensecc.log');
  const file = new RotatingFile({
    path,
    maxBytes: 1 << 20,
    maxFiles: 2,
    intervalMs: 0,
    maxQueueBytes: 2048,
    dropNote: (count) => JSON.stringify({ dropped: count }),
  });
  const acceptedSeqs: number[] = [];
  // Synchronously: the writer loop cannot run in between, as when the disk is slow.
  for (let n = 0; n < 1000; n++) if (file.write(line(n))) acceptedSeqs.push(n);
  const accepted = acceptedSeqs.length;
  assert.ok(accepted > 0 && accepted < 1000, `accepted ${accepted}`);
  assert.equal(file.dropped, 1000 - accepted);
  await file.close();
  const lines = readLines(path);
  assert.equal(lines.length, accepted + 1);
  assert.deepEqual(JSON.parse(lines[lines.length - 1]!), { dropped: 1000 - accepted });
  assert.deepEqual(lines.slice(0, -1).map(seqOf), acceptedSeqs);
});

test('a write error is reported and counted, never thrown at the caller', async () => {
  const dir = tempDir();
  const blocker = join(dir, 'not-a-dir');
  writeFileSync(blocker, 'x');
  const errors: Error[] = [];
  const file = new RotatingFile({ path: join(blocker, 'x.log'), maxBytes: 1000, maxFiles: 2, intervalMs: 0, maxQueueBytes: 1 << 20, onError: (e) => errors.push(e) });
  assert.equal(file.write('a'), true);
  await file.close();
  assert.ok(errors.length >= 1);
  assert.match(errors[0]!.message, /ENOTDIR|EEXIST/);
  assert.equal(file.dropped, 1);
});

test('archives beyond a lowered maxFiles are removed at the next rotation', async () => {
  const dir = tempDir();
  const path = join(dir, 'can.log');
  for (const n of [1, 2, 3, 4, 5, 6, 7]) writeFileSync(`${path}.${n}`, `old ${n}\n`);
  const file = new RotatingFile({ path, maxBytes: 10, maxFiles: 3, intervalMs: 0, maxQueueBytes: 1 << 20 });
  file.write('0123456789');
  file.write('abcdefghij');
  await file.close();
  assert.deepEqual(readdirSync(dir).sort(), ['can.log', 'can.log.1', 'can.log.2']);
  assert.deepEqual(rotatedFiles(dir, 'can.log').map(readLines), [['0123456789'], ['abcdefghij'], []]);
});

test('bad options are refused with the file named', () => {
  assert.throws(() => new RotatingFile({ path: '/tmp/x.log', maxBytes: 0, maxFiles: 1, intervalMs: 0, maxQueueBytes: 1 }), /x\.log: maxBytes/);
  assert.throws(() => new RotatingFile({ path: '/tmp/x.log', maxBytes: 10, maxFiles: 0, intervalMs: 0, maxQueueBytes: 1 }), /x\.log: maxFiles/);
});
