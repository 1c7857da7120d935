import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineQueue } from '@opensecc/plugin-logging/line-queue';

const text = (views: Buffer[]) => Buffer.concat(views).toString('utf8');

test('lines come out whole, in order and byte-exact, multibyte text and chunk boundaries included', () => {
  const queue = new LineQueue();
  const lines: string[] = [];
  // Lines of 1–4-byte characters, enough of them to fill several 64 KiB chunks.
  const samples = ['ascii', 'Grüße ä ö ü', '充電 ステーション', 'plug 🔌 car 🚗', 'x'.repeat(1000)];
  for (let i = 0; i < 2000; i++) lines.push(`${i} ${samples[i % samples.length]}\n`);
  let pushed = 0;
  for (const line of lines) pushed += queue.push(line);
  assert.equal(pushed, Buffer.byteLength(lines.join('')));
  assert.equal(queue.bytes, pushed);
  assert.equal(queue.length, lines.length);
  let out = '';
  let taken = 0;
  while (queue.length > 0) {
    const batch = queue.take(50_000, 300);
    assert.ok(batch.lines >= 1 && batch.lines <= 300);
    assert.equal(Buffer.concat(batch.views).length, batch.bytes);
    out += text(batch.views);
    taken += batch.lines;
  }
  assert.equal(taken, lines.length);
  assert.equal(out, lines.join(''));
  assert.equal(queue.bytes, 0);
});

test('take honours room but always hands out at least one line, however long', () => {
  const queue = new LineQueue();
  const long = 'L'.repeat(200_000) + '\n'; // longer than a chunk: a chunk of its own
  queue.push('a\n');
  queue.push(long);
  queue.push('b\n');
  assert.equal(queue.peekSize(), 2);
  let batch = queue.take(100, 10);
  assert.equal(text(batch.views), 'a\n', 'the long line does not fit the room left');
  assert.equal(queue.peekSize(), long.length);
  batch = queue.take(100, 10);
  assert.equal(text(batch.views), long, 'one line is handed out even when it exceeds the room');
  batch = queue.take(100, 10);
  assert.equal(text(batch.views), 'b\n');
  assert.equal(queue.peekSize(), undefined);
  assert.deepEqual(queue.take(100, 10), { views: [], lines: 0, bytes: 0 });
});

test('views handed out stay intact while more lines are queued, until the next take', () => {
  const queue = new LineQueue();
  for (let i = 0; i < 100; i++) queue.push(`first ${i}\n`);
  const batch = queue.take(1e9, 1e6);
  const before = text(batch.views);
  for (let i = 0; i < 20_000; i++) queue.push(`second ${i} ${'y'.repeat(i % 50)}\n`);
  assert.equal(text(batch.views), before);
  const rest = queue.take(1e9, 1e6);
  assert.ok(text(rest.views).startsWith('second 0 \n'));
});

test('any interleaving of pushes and takes returns exactly the lines pushed, in order (property)', () => {
  const line = fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => s.replace(/\n/g, ' ') + '\n');
  const step = fc.oneof(
    fc.record({ push: fc.array(line, { maxLength: 400 }) }),
    fc.record({ room: fc.integer({ min: 1, max: 100_000 }), maxLines: fc.integer({ min: 1, max: 500 }) }),
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const queue = new LineQueue();
      const pushed: string[] = [];
      let out = '';
      for (const s of steps) {
        if ('push' in s) {
          for (const l of s.push) queue.push(l);
          pushed.push(...s.push);
        } else {
          const batch = queue.take(s.room, s.maxLines);
          const got = text(batch.views);
          assert.ok(batch.lines <= s.maxLines);
          if (batch.lines > 1) assert.ok(batch.bytes <= s.room, 'several lines only when they fit the room');
          assert.equal(Buffer.byteLength(got), batch.bytes);
          out += got;
        }
      }
      const last = queue.take(Infinity, Infinity);
      out += text(last.views);
      assert.equal(out, pushed.join(''));
      assert.equal(queue.length, 0);
    }),
    { numRuns: 300 },
  );
});

test('a line that does not fit the room holds back the smaller lines queued after it', () => {
  const queue = new LineQueue();
  const lines = [...Array.from({ length: 63 }, (_, i) => `${String(i).padStart(3, '0')}${'a'.repeat(996)}\n`), 'B'.repeat(1999) + '\n', 'c'.repeat(599) + '\n'];
  for (const line of lines) queue.push(line); // the last one starts a second chunk
  const first = queue.take(64_000, 1000);
  assert.equal(first.lines, 63);
  assert.equal(text(first.views), lines.slice(0, 63).join(''), 'the small line after the big one is not taken ahead of it');
  assert.equal(text(queue.take(64_000, 1000).views), lines.slice(63).join(''));
});

test('a line without a newline gets one, counted in its size, also where it only just fits a chunk', () => {
  const queue = new LineQueue();
  assert.equal(queue.push('Grüße'), Buffer.byteLength('Grüße\n'));
  assert.equal(queue.push('done\n'), 5, 'a line that has its newline keeps just that one');
  // Leave 4 bytes in the first chunk: "abcd" would fit there, its newline would not.
  const filler = 'f'.repeat(64 * 1024 - queue.bytes - 5);
  queue.push(filler);
  queue.push('abcd');
  const out = Buffer.concat(queue.take(Infinity, Infinity).views).toString('utf8');
  assert.equal(out, `Grüße\ndone\n${filler}\nabcd\n`);
  assert.equal(queue.bytes, 0);
});
