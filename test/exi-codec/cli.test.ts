/**
 * `secc exi decode|encode` (core/src/cli/commands/exi.ts), run in-process with real streams.
 * Imported from core's build at run time so this project does not depend on the whole core.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './helpers.js';

const built = join(REPO_ROOT, 'core', 'dist', 'cli', 'commands', 'exi.js');
const skip = existsSync(built) ? false : 'core is not built (core/dist/cli/commands/exi.js)';

interface Command { run(args: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; stdin: NodeJS.ReadableStream }): Promise<number> }

async function run(args: string[], stdin = ''): Promise<{ code: number; out: string[] }> {
  const { exiCommand } = (await import(pathToFileURL(built).href)) as { exiCommand: Command };
  const input = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  input.end(stdin);
  const code = await exiCommand.run(args, { stdout, stderr, stdin: input });
  return { code, out: text.split('\n').filter(Boolean) };
}

const HEX = '809a02000000000000000011d01a121dc983cd6000';
const DOC = { V2G_Message: { Header: { SessionID: '0000000000000000' }, Body: { SessionSetupReq: { EVCCID: '84877260f358' } } } };

test('exi decode HEX prints the JSON document', { skip }, async () => {
  const r = await run(['decode', '--schema', 'din', HEX]);
  assert.equal(r.code, 0);
  assert.deepEqual(r.out.map((l) => JSON.parse(l)), [DOC]);
});

test('exi decode from stdin: a bad line prints an error line, the rest go on, exit 1', { skip }, async () => {
  const r = await run(['decode', '--schema', 'din'], `${HEX}\n809a02\nnot-hex\n\n${HEX}\n`);
  assert.equal(r.code, 1);
  assert.equal(r.out.length, 4);
  assert.deepEqual(JSON.parse(r.out[0]!), DOC);
  const err = JSON.parse(r.out[1]!);
  assert.deepEqual(Object.keys(err).sort(), ['at', 'error']);
  assert.match(err.error, /^truncated/);
  assert.match(err.at, /V2G_Message/);
  assert.match(JSON.parse(r.out[2]!).error, /hex/);
  assert.deepEqual(JSON.parse(r.out[3]!), DOC);
});

test('exi encode reads JSON lines and prints lowercase hex', { skip }, async () => {
  const bad = JSON.stringify({ V2G_Message: { Header: { SessionID: '00' }, Body: { SessionSetupReq: { EVCCID: 'XYZ' } } } });
  const r = await run(['encode', '--schema', 'din'], `${JSON.stringify(DOC)}\n${bad}\n{oops\n`);
  assert.equal(r.code, 1);
  assert.equal(r.out[0], HEX);
  assert.equal(JSON.parse(r.out[1]!).at, 'V2G_Message/Body/SessionSetupReq/EVCCID (bit 46)');
  assert.match(JSON.parse(r.out[2]!).error, /not JSON/);
});

test('exi: bad usage throws UsageError (exit 2 in main)', { skip }, async () => {
  for (const args of [['decode'], ['decode', '--schema', 'bogus'], ['frobnicate', '--schema', 'din'], []]) {
    await assert.rejects(run(args), (e: Error) => e.name === 'UsageError');
  }
});
