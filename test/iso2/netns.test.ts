/**
 * ISO 15118-2 across a veth pair between two network namespaces, as with a real PLC link:
 * `secc start --sim --iface IFACE --no-slac` in one, `secc sim ev --protocol iso2 --iface IFACE
 * --no-slac` in the other; SDP over the ff02::1 multicast, V2GTP over TCP to the SECC's link-local
 * address; a DC and then an AC session. Needs root and ISO 15118-2 wired into the daemon
 * (core/src/v2g/iso2/INTEGRATION.md); skipped with the reason otherwise.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMPLEMENTED_PROTOCOLS } from '@opensecc/core/v2g/index';

const SECC = fileURLToPath(new URL('../../../bin/secc.js', import.meta.url));
const id = `${process.pid % 100000}`;
const NS_EVSE = `iso2-evse-${id}`;
const NS_EV = `iso2-ev-${id}`;
const IF_EVSE = `vis2${id}a`;
const IF_EV = `vis2${id}b`;

function ip(...args: string[]): { ok: boolean; out: string; error: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '', error: (r.stderr || r.error?.message || '').trim() };
}

function createTopology(): string | undefined {
  if (!IMPLEMENTED_PROTOCOLS.includes('iso15118-2')) return 'ISO 15118-2 is not wired into the daemon yet (core/src/v2g/iso2/INTEGRATION.md)';
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  const steps = [
    ['netns', 'add', NS_EVSE],
    ['netns', 'add', NS_EV],
    ['link', 'add', IF_EVSE, 'type', 'veth', 'peer', 'name', IF_EV],
    ['link', 'set', IF_EVSE, 'netns', NS_EVSE],
    ['link', 'set', IF_EV, 'netns', NS_EV],
    ['-n', NS_EVSE, 'link', 'set', 'lo', 'up'],
    ['-n', NS_EV, 'link', 'set', 'lo', 'up'],
    ['-n', NS_EVSE, 'link', 'set', IF_EVSE, 'up'],
    ['-n', NS_EV, 'link', 'set', IF_EV, 'up'],
  ];
  for (const step of steps) {
    const r = ip(...step);
    if (!r.ok) {
      destroyTopology();
      return `cannot create network namespaces (ip ${step.join(' ')}: ${r.error})`;
    }
  }
  return undefined;
}

function destroyTopology(): void {
  ip('netns', 'del', NS_EVSE);
  ip('netns', 'del', NS_EV);
}

async function linkLocalReady(ns: string, iface: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = ip('-n', ns, '-6', 'addr', 'show', 'dev', iface).out;
    if (/inet6 fe80::/.test(out) && !/tentative/.test(out)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${iface} in ${ns} has no usable link-local address`);
}

async function simEv(mode: 'dc' | 'ac', daemonLog: () => string) {
  const child = spawn('ip', ['netns', 'exec', NS_EV, process.execPath, SECC, 'sim', 'ev', '--protocol', 'iso2', '--mode', mode, '--iface', IF_EV, '--no-slac', '--soc', '78', '--target-soc', '80', '--capacity-wh', '400', '--speed', mode === 'ac' ? '20' : '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise((r) => setTimeout(r, 500));
  const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  assert.equal(status, 0, `sim ev --mode ${mode}: ${stdout}\n${stderr}\n--- daemon ---\n${daemonLog().slice(-4000)}`);
  assert.equal(summary.ok, true);
  assert.equal(summary.protocol, 'iso2');
  assert.equal(summary.mode, mode);
  return summary;
}

test('ISO 15118-2 DC and AC across a veth pair: secc start --sim --iface --no-slac, SDP multicast, V2G on link-local', { timeout: 120000 }, async (t: TestContext) => {
  const why = createTopology();
  if (why) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'iso2-netns-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'info' },
      pluginHost: { watch: false, dataDir: join(dir, 'data'), runDir: join(dir, 'run'), watchDir: join(dir, 'plugins') },
      plugins: { 'mqtt-broker': { enabled: false }, 'mqtt-api': { enabled: false }, 'firmware-update': { enabled: false }, logging: { enabled: false } },
      v2g: { security: 'none', protocols: ['iso15118-2', 'din70121'], iso2: { energyTransferModes: ['DC_extended', 'AC_three_phase_core'] } },
    }),
  );
  await Promise.all([linkLocalReady(NS_EVSE, IF_EVSE), linkLocalReady(NS_EV, IF_EV)]);
  let daemonLog = '';
  const daemon = spawn('ip', ['netns', 'exec', NS_EVSE, process.execPath, SECC, 'start', '--sim', '--config', config, '--iface', IF_EVSE, '--no-slac'], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout.on('data', (c: Buffer) => (daemonLog += c.toString()));
  daemon.stderr.on('data', (c: Buffer) => (daemonLog += c.toString()));
  try {
    for (let i = 0; i < 200 && !/"msg":"kernel ready"/.test(daemonLog); i++) {
      if (daemon.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(daemonLog, /"msg":"kernel ready"/, `daemon did not start:\n${daemonLog.slice(-3000)}`);
    await simEv('dc', () => daemonLog);
    const ac = await simEv('ac', () => daemonLog);
    assert.ok((ac.sequence as string[]).some((s) => s.startsWith('ChargingStatusReq:OK')));
    assert.doesNotMatch(daemonLog, /"state":"matched"/, 'no SLAC with --no-slac');
    assert.match(daemonLog, /"from":"\[fe80::[0-9a-f:]+(%[^\]]+)?\]:\d+"/);
    assert.match(daemonLog, /"protocol":"iso15118-2".*"msg":"power delivery started"/);
    assert.match(daemonLog, /"msg":"power delivery started \(AC: contactors close in state C\)"/);
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => (daemon.exitCode !== null ? resolve(undefined) : daemon.once('exit', resolve)));
    destroyTopology();
  }
});
