/**
 * A simulated DC session as `npm start` runs it (`secc start --demo`, logging plugin on): its
 * V2G trace is exported as pcapng that tshark reads with the V2GTP payloads, and the demo writes
 * the session's report at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtInPlugins } from '@opensecc/core/daemon/built-in-plugins';
import { LUA_DISSECTOR, missingTool, tempDir } from './harness.js';

const SECC = fileURLToPath(new URL('../../../bin/secc.js', import.meta.url));
const noTshark = missingTool('tshark', 'apt-get install -y tshark; .ci/run installs it');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('the demo session: trace exported as pcapng is read by tshark, and its report is written', { skip: noTshark }, async (t) => {
  const dir = tempDir();
  const logDir = join(dir, 'log');
  const config = join(dir, 'config.json');
  const others = Object.fromEntries(builtInPlugins().map((p) => [p.name, { enabled: false }]));
  writeFileSync(
    config,
    JSON.stringify({
      pluginHost: { watch: false, watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
      plugins: { ...others, logging: { enabled: true, config: { dir: logDir } } },
      v2g: { sdpPort: await freePort() },
    }),
  );
  const daemon = spawn(process.execPath, [SECC, 'start', '--demo', '--config', config], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => void daemon.kill('SIGKILL'));
  let console = '';
  daemon.stderr.on('data', (c: Buffer) => (console += c.toString()));
  const report = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no session report within 120 s:\n${console.slice(-3000)}`)), 120000);
    const poll = setInterval(() => {
      const match = /session report: (\S+)/.exec(console);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]!);
      }
    }, 100);
  });
  assert.match(console, /session complete: .*"stop_reason":"target SoC reached"/);
  daemon.kill('SIGTERM');
  assert.equal(await new Promise((resolve) => daemon.on('close', resolve)), 0);

  const html = readFileSync(report, 'utf8');
  assert.match(html, /<svg/, 'the report plots the session');
  assert.match(html, /target SoC reached/, 'the report names the stop reason');

  const out = join(dir, 'session.pcapng');
  const exported = spawnSync(process.execPath, [SECC, 'trace', 'export', '--format', 'pcapng', '--out', out, '--dir', logDir], { encoding: 'utf8' });
  assert.equal(exported.status, 0, exported.stderr);
  const rows = spawnSync('tshark', ['-X', `lua_script:${LUA_DISSECTOR}`, '-r', out, '-Y', 'v2gtp', '-T', 'fields', '-e', 'v2gtp.payload_type', '-e', 'frame.comment'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(rows.status, 0, rows.stderr);
  const lines = rows.stdout.trim().split('\n');
  assert.ok(lines.length > 20, `a whole session of V2GTP messages, got ${lines.length}`);
  const text = rows.stdout;
  for (const message of ['supportedAppProtocolReq', 'SessionSetupReq', 'CableCheckRes', 'PreChargeReq', 'CurrentDemandReq', 'WeldingDetectionRes', 'SessionStopRes']) {
    assert.ok(text.includes(message), `${message} is in the exported capture`);
  }
});
