/**
 * The ISO 15118-20 codecs load on demand: importing the package evaluates apphand, DIN 70121,
 * ISO 15118-2 and xmldsig only. Each check runs in a fresh node process (real module loading,
 * no cache shared with this test process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './helpers.js';

// ISO 15118-20 SessionSetupReq (EXIficient, via EVerest libcbv2g's tests), as in vectors.test.ts.
const ISO20_SESSION_SETUP = '808c0418181818181818180849fb4fbabaa840320a2824ac2b1899199a1a9b1b9c1c981899199880';

/** Runs an ES module script in a fresh node process from the repository root. */
function runModule(script: string, preload?: string): { status: number | null; out: unknown; stderr: string } {
  const args = [...(preload ? ['--import', `data:text/javascript,${encodeURIComponent(preload)}`] : []), '--input-type=module', '-e', script];
  const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let out: unknown;
  try {
    out = JSON.parse(last);
  } catch {
    out = last;
  }
  return { status: r.status, out, stderr: r.stderr };
}

test('a fresh process decodes ISO 15118-20 only after loadSchema(); before, schema-not-loaded says what to do', () => {
  const r = runModule(`
    import { decode, encode, fromHex, toHex, loadSchema, isSchemaLoaded, SCHEMA_NAMES, ExiError } from '@opensecc/exi-codec';
    const out = { names: SCHEMA_NAMES, loadedAtStart: SCHEMA_NAMES.filter(isSchemaLoaded) };
    try { decode('iso20', fromHex('${ISO20_SESSION_SETUP}')); out.before = 'decoded'; }
    catch (e) { out.before = e instanceof ExiError ? { kind: e.kind, message: e.message } : String(e); }
    try { encode('iso20-dc', {}); } catch (e) { out.encodeBefore = e.kind; }
    await loadSchema('iso20');
    const doc = decode('iso20', fromHex('${ISO20_SESSION_SETUP}'));
    out.after = Object.keys(doc);
    out.reencoded = toHex(encode('iso20', doc)) === '${ISO20_SESSION_SETUP}';
    out.dcStillLazy = !isSchemaLoaded('iso20-dc');
    try { await loadSchema('iso99'); } catch (e) { out.unknown = e.kind; }
    console.log(JSON.stringify(out));
  `);
  assert.equal(r.status, 0, r.stderr);
  const out = r.out as Record<string, unknown>;
  assert.deepEqual(out.names, ['apphand', 'din', 'iso2', 'iso20', 'iso20-dc', 'iso20-ac', 'iso20-acdp', 'iso20-wpt', 'xmldsig']);
  assert.deepEqual(out.loadedAtStart, ['apphand', 'din', 'iso2', 'xmldsig']);
  const before = out.before as { kind: string; message: string };
  assert.equal(before.kind, 'schema-not-loaded');
  assert.match(before.message, /await loadSchema\('iso20'\)/);
  assert.equal(out.encodeBefore, 'schema-not-loaded');
  assert.deepEqual(out.after, ['SessionSetupReq']);
  assert.equal(out.reencoded, true);
  assert.equal(out.dcStillLazy, true);
  assert.equal(out.unknown, 'unknown-schema');
});

test('importing the package does not evaluate the ISO 15118-20 codec modules', () => {
  // A module hook that refuses every ISO 15118-20 codec module: the package must still import
  // and code the eager schemas; loadSchema('iso20-dc') is then the one thing that fails.
  const hooks = `export async function resolve(specifier, context, next) {
    const r = await next(specifier, context);
    if (/\\/generated\\/iso20[^/]*\\/codec\\.js$/.test(r.url)) throw new Error('refused ' + r.url);
    return r;
  }`;
  const preload = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;
  const r = runModule(`
    import { decode, fromHex, loadSchema, loadAllSchemas } from '@opensecc/exi-codec';
    const out = {};
    out.din = Object.keys(decode('din', fromHex('809a02000000000000000011d01a121dc983cd6000')).V2G_Message);
    try { await loadSchema('iso20-dc'); out.iso20dc = 'loaded'; } catch (e) { out.iso20dc = { kind: e.kind, message: e.message }; }
    try { await loadAllSchemas(); out.all = 'loaded'; } catch (e) { out.all = e.kind; }
    console.log(JSON.stringify(out));
  `, preload);
  assert.equal(r.status, 0, r.stderr);
  const out = r.out as Record<string, unknown>;
  assert.deepEqual(out.din, ['Header', 'Body']);
  const dc = out.iso20dc as { kind: string; message: string };
  assert.equal(dc.kind, 'internal');
  assert.match(dc.message, /refused .*generated\/iso20-dc\/codec\.js/);
  assert.equal(out.all, 'internal');
});
