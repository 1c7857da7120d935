/**
 * The daemon (simulated board, SLAC + SDP + V2G on a real interface) and the EV simulator in two
 * network namespaces joined by a veth pair: SLAC over raw sockets, SDP over the ff02::1 multicast,
 * V2GTP over TCP to the SECC's link-local address, a complete DIN 70121 DC session.
 * Needs root and the rawsock addon; skipped with the reason otherwise.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSim, SIM_EV_BATTERY, spawnDaemon, writeConfig } from '#support/daemon.js';
import { VethPair } from '#support/netns.js';

const link = VethPair.named('v2g', 'vv2g');

async function rawsockAvailable(): Promise<string | undefined> {
  try {
    const rawsock = (await import('@opensecc/rawsock')) as { isAvailable(): boolean };
    return rawsock.isAvailable() ? undefined : 'the @opensecc/rawsock addon is not built';
  } catch (error) {
    return `the @opensecc/rawsock addon cannot be loaded (${(error as Error).message})`;
  }
}

test('DIN 70121 DC session across a veth pair: SLAC over raw sockets, SDP multicast, V2G on link-local', { timeout: 90000 }, async (t: TestContext) => {
  const why = (await rawsockAvailable()) ?? link.create();
  if (why) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'v2g-netns-'));
  const config = writeConfig(dir, {
    log: { level: 'info' },
    pluginHost: { watch: false, dataDir: join(dir, 'data'), runDir: join(dir, 'run'), watchDir: join(dir, 'plugins') },
    plugins: { 'mqtt-broker': { enabled: false }, 'mqtt-api': { enabled: false }, 'firmware-update': { enabled: false }, logging: { enabled: false } },
    v2g: { security: 'none' },
  });
  await link.linkLocalReady();
  const daemon = spawnDaemon({ config, args: ['--sim', '--iface', link.ifEvse], netns: link.nsEvse });
  try {
    await daemon.waitFor(/"msg":"kernel ready"/, 10000);
    // Asynchronous, so the daemon's output keeps flowing while the EV runs.
    const sim = await runSim(['--protocol', 'din', '--iface', link.ifEv, ...SIM_EV_BATTERY], { netns: link.nsEv });
    const daemonLog = daemon.output();
    assert.equal(sim.code, 0, `sim ev: ${sim.stdout}\n${sim.stderr}\n--- daemon ---\n${daemonLog.slice(-4000)}`);
    assert.equal(sim.summary.ok, true);
    assert.equal(sim.summary.stop_reason, 'target SoC reached');
    assert.match(daemonLog, /"state":"matched"/);
    assert.match(daemonLog, /"msg":"SDP request answered"/);
    assert.match(daemonLog, /"from":"\[fe80::[0-9a-f:]+(%[^\]]+)?\]:\d+"/);
    assert.match(daemonLog, /"msg":"power delivery started"/);
    assert.match(daemonLog, /"msg":"power delivery stopped"/);
  } finally {
    await daemon.stop();
    link.destroy();
  }
});
