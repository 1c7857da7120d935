/**
 * The daemon (simulated board, SLAC + SDP + V2G on a real interface) and the EV simulator in two
 * network namespaces joined by a veth pair: SLAC over raw sockets, SDP over the ff02::1 multicast,
 * V2GTP over TCP to the SECC's link-local address, a complete DIN 70121 DC session.
 * Needs root and the rawsock addon; skipped with the reason otherwise.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECC = fileURLToPath(new URL('../../../bin/secc.js', import.meta.url));
const id = `${process.pid % 100000}`;
const NS_EVSE = `v2g-evse-${id}`;
const NS_EV = `v2g-ev-${id}`;
const IF_EVSE = `vv2g${id}a`;
const IF_EV = `vv2g${id}b`;

function ip(...args: string[]): { ok: boolean; out: string; error: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '', error: (r.stderr || r.error?.message || '').trim() };
}

async function rawsockAvailable(): Promise<string | undefined> {
  try {
    const rawsock = (await import('@opensecc/rawsock')) as { isAvailable(): boolean };
    return rawsock.isAvailable() ? undefined : 'the @opensecc/rawsock addon is not built';
  } catch (error) {
    return `the @opensecc/rawsock addon cannot be loaded (${(error as Error).message})`;
  }
}

function createTopology(): string | undefined {
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

/** Link-local addresses are usable once duplicate address detection is over. */
async function linkLocalReady(ns: string, iface: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = ip('-n', ns, '-6', 'addr', 'show', 'dev', iface).out;
    if (/inet6 fe80::/.test(out) && !/tentative/.test(out)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${iface} in ${ns} has no usable link-local address`);
}

test('DIN 70121 DC session across a veth pair: SLAC over raw sockets, SDP multicast, V2G on link-local', { timeout: 90000 }, async (t: TestContext) => {
  const why = (await rawsockAvailable()) ?? createTopology();
  if (why) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'v2g-netns-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'info' },
      pluginHost: { watch: false, dataDir: join(dir, 'data'), runDir: join(dir, 'run'), watchDir: join(dir, 'plugins') },
      plugins: { 'mqtt-broker': { enabled: false }, 'mqtt-api': { enabled: false }, 'firmware-update': { enabled: false }, logging: { enabled: false } },
      v2g: { security: 'none' },
    }),
  );
  await Promise.all([linkLocalReady(NS_EVSE, IF_EVSE), linkLocalReady(NS_EV, IF_EV)]);
  let daemonLog = '';
  const daemon = spawn('ip', ['netns', 'exec', NS_EVSE, process.execPath, SECC, 'start', '--sim', '--config', config, '--iface', IF_EVSE], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout.on('data', (c: Buffer) => (daemonLog += c.toString()));
  daemon.stderr.on('data', (c: Buffer) => (daemonLog += c.toString()));
  try {
    for (let i = 0; i < 200 && !/"msg":"kernel ready"/.test(daemonLog); i++) {
      if (daemon.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(daemonLog, /"msg":"kernel ready"/, `daemon did not start:\n${daemonLog.slice(-3000)}`);
    // Asynchronous, so the daemon's output keeps flowing while the EV runs.
    const child = spawn('ip', ['netns', 'exec', NS_EV, process.execPath, SECC, 'sim', 'ev', '--protocol', 'din', '--iface', IF_EV, '--soc', '78', '--target-soc', '80', '--capacity-wh', '400', '--speed', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise((r) => setTimeout(r, 300));
    const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.equal(status, 0, `sim ev: ${stdout}\n${stderr}\n--- daemon ---\n${daemonLog.slice(-4000)}`);
    assert.equal(summary.ok, true);
    assert.equal(summary.stop_reason, 'target SoC reached');
    assert.match(daemonLog, /"state":"matched"/);
    assert.match(daemonLog, /"msg":"SDP request answered"/);
    assert.match(daemonLog, /"from":"\[fe80::[0-9a-f:]+(%[^\]]+)?\]:\d+"/);
    assert.match(daemonLog, /"msg":"power delivery started"/);
    assert.match(daemonLog, /"msg":"power delivery stopped"/);
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => (daemon.exitCode !== null ? resolve(undefined) : daemon.once('exit', resolve)));
    destroyTopology();
  }
});
