import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { slacCommand } from '@opensecc/core/cli/commands/slac';
import { UsageError } from '@opensecc/core/cli/command';
import { loadFixture } from './helpers/fixtures.js';

async function run(args: string[], stdinText = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  const code = await slacCommand.run(args, { stdout, stderr, stdin: Readable.from([stdinText]) });
  return { code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const PARM_REQ = 'ffffffffffff0465650064c388e1016460000000000465650064c3000000000000000000000000000000000000000000000000000000000000000000';

test('secc slac decode HEX prints mmtype, name and the fields', async () => {
  const { code, lines } = await run(['decode', PARM_REQ]);
  assert.equal(code, 0);
  assert.deepEqual(lines, [
    {
      mmtype: 0x6064, name: 'CM_SLAC_PARM.REQ', mmv: 1, dst: 'ff:ff:ff:ff:ff:ff', src: '04:65:65:00:64:c3',
      fragmentation: { count: 0, index: 0, sequence: 0 }, applicationType: 0, securityType: 0, runId: '0465650064c30000',
    },
  ]);
});

test('secc slac decode reads one frame per stdin line, reports bad lines and exits 1 at the end', async () => {
  const frames = loadFixture('ioniq').frames.map((f) => f.toString('hex'));
  const input = ['# a comment', frames[0], 'zz12', '', frames[1], 'ffffffffffff0465650064c388e101', `${PARM_REQ.slice(0, 24)}0800${PARM_REQ.slice(28)}`].join('\n');
  const { code, lines } = await run(['decode'], input);
  assert.equal(code, 1);
  assert.equal(lines.length, 5);
  assert.equal(typeof lines[0]!.mmtype, 'number');
  assert.deepEqual(lines[1], { error: "not hex: 'z'", at: 'line 3, hex digit 1' });
  assert.equal(typeof lines[2]!.name, 'string');
  assert.match(String(lines[3]!.error), /frame ends inside the MME header/);
  assert.match(String(lines[3]!.at), /^line 6, byte/);
  assert.match(String(lines[4]!.error), /EtherType 0x0800/);
});

test('every frame of a capture fixture decodes through the CLI', async () => {
  const frames = loadFixture('tesla-model-y').frames.map((f) => f.toString('hex'));
  const { code, lines } = await run(['decode'], frames.join('\n') + '\n');
  assert.equal(code, 0);
  assert.equal(lines.length, frames.length);
  assert.ok(lines.some((l) => l.name === 'CM_SLAC_MATCH.CNF' && l.nid === '01020304050607'));
});

test('bad usage is a UsageError (exit 2)', async () => {
  await assert.rejects(run([]), UsageError);
  await assert.rejects(run(['encode']), UsageError);
  await assert.rejects(run(['decode', '--bogus']), UsageError);
});
