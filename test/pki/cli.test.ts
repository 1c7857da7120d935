/** `secc pki generate`: exit codes 0 / 1 / 2 and what lands in DIR. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { emaidOf, readCertificate, validateChain, readChain } from '@opensecc/v2g-pki';
import { main } from '@opensecc/core/cli/main';
import { tempDir } from './helpers/pki.js';

const SECC = fileURLToPath(new URL('../../../bin/secc.js', import.meta.url));
const base = tempDir('cli');
after(() => rmSync(base, { recursive: true, force: true }));

/** The real `secc` binary in a child process: exit codes as a shell sees them. */
const secc = (...args: string[]) => {
  const r = spawnSync(process.execPath, [SECC, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** The same dispatcher in-process (bin/secc.js only calls main), for the many usage cases. */
async function seccInProcess(...args: string[]) {
  const collect = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    return { stream, text: () => text };
  };
  const out = collect();
  const err = collect();
  const code = await main(args, { stdout: out.stream, stderr: err.stream, stdin: new PassThrough() });
  return { code, stdout: out.text(), stderr: err.text() };
}

test('secc pki generate DIR writes the PKI (exit 0); the contract certificate carries --emaid', () => {
  const dir = join(base, 'new', 'pki');
  const r = secc('pki', 'generate', dir, '--emaid', 'NLXYZC00000042', '--pcid', 'WMIAB1234567890CD');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /test PKI written to/);
  const files = readdirSync(dir);
  for (const f of ['v2g-root.pem', 'secc-chain.pem', 'contract.pem', 'oem-provisioning.pem', 'cps-leaf.pem', 'README.md']) assert.ok(files.includes(f), f);
  for (const f of files.filter((n) => n.endsWith('.key.pem'))) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  assert.equal(emaidOf(readCertificate(join(dir, 'contract.pem'))), 'NLXYZC00000042');
  const chain = readChain(join(dir, 'secc-chain.pem'));
  assert.equal(validateChain({ leaf: chain[0]!, subCertificates: chain.slice(1), trustAnchors: [readCertificate(join(dir, 'v2g-root.pem'))] }).ok, true);
});

test('a non-empty DIR is refused (exit 1) unless --force; an empty existing DIR is fine', async () => {
  const dir = join(base, 'busy');
  mkdirSync(dir);
  writeFileSync(join(dir, 'keep.txt'), 'x');
  const refused = secc('pki', 'generate', dir);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /not empty.*--force/);
  assert.deepEqual(readdirSync(dir), ['keep.txt']);
  const forced = await seccInProcess('pki', 'generate', dir, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(readdirSync(dir).includes('v2g-root.pem'));
  const empty = join(base, 'empty');
  mkdirSync(empty);
  assert.equal((await seccInProcess('pki', 'generate', empty)).code, 0);
});

test('a DIR that is a file → exit 1', async () => {
  const file = join(base, 'file');
  writeFileSync(file, 'x');
  const r = await seccInProcess('pki', 'generate', file);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a directory/);
});

test('bad usage → exit 2 with the usage line', async () => {
  const missing = secc('pki', 'generate');
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /missing DIR\nusage: secc pki generate DIR/);
  for (const args of [['pki'], ['pki', 'make', 'x'], ['pki', 'generate', 'a', 'b'], ['pki', 'generate', 'x', '--emaid', 'nope'], ['pki', 'generate', 'x', '--pcid'], ['pki', 'generate', 'x', '--bogus']]) {
    const r = await seccInProcess(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: secc pki generate DIR/);
  }
});

test('secc pki --help lists the options; secc --help lists pki', async () => {
  const r = await seccInProcess('pki', '--help');
  assert.equal(r.code, 0);
  for (const o of ['--emaid', '--pcid', '--force', 'secc-chain.pem']) assert.ok(r.stdout.includes(o), o);
  assert.match((await seccInProcess('--help')).stdout, /\bpki\b/);
});
