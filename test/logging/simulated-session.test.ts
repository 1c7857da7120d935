/**
 * A simulated DC session as `npm start` runs it (`secc start --demo`, logging plugin on): its
 * V2G trace is exported as pcapng that tshark reads with the V2GTP payloads, and the demo writes
 * the session's report at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtInPlugins } from '@opensecc/core/daemon/built-in-plugins';
import { SECC, spawnDaemon, writeConfig } from '#support/daemon.js';
import { freePort } from '#support/net.js';
import { LUA_DISSECTOR, missingTool, tempDir } from './harness.js';

const noTshark = missingTool('tshark', 'apt-get install -y tshark; .ci/run installs it');

test('the demo session: trace exported as pcapng is read by tshark, and its report is written', { skip: noTshark }, async (t) => {
  const dir = tempDir();
  const logDir = join(dir, 'log');
  const others = Object.fromEntries(builtInPlugins().map((p) => [p.name, { enabled: false }]));
  const config = writeConfig(dir, {
    pluginHost: { watch: false, watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
    plugins: { ...others, logging: { enabled: true, config: { dir: logDir } } },
    v2g: { sdpPort: await freePort() },
  });
  const daemon = spawnDaemon({ config, args: ['--demo'], cwd: dir });
  t.after(() => void daemon.stop('SIGKILL'));
  const report = await daemon.until('session report', () => /session report: (\S+)/.exec(daemon.stderr())?.[1], 120000);
  assert.match(daemon.stderr(), /session complete: .*"stop_reason":"target SoC reached"/);
  assert.equal(await daemon.stop(), 0);

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
