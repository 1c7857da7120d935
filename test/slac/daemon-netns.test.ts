/**
 * `secc start --sim --iface IFACE` runs the EVSE SLAC of the daemon on a real interface: an EV SLAC
 * stack in another network namespace, on the other end of a veth pair, matches with it, and the
 * simulated board behaves as if the car were plugged in from SLAC on (CONTRACTS.md).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isAvailable } from '@opensecc/rawsock';
import { builtInPlugins } from '@opensecc/core/daemon/built-in-plugins';
import { SECC } from '#support/daemon.js';
import { VethPair } from '#support/netns.js';

const PEER = fileURLToPath(new URL('./helpers/netns-peer.js', import.meta.url));
const id = `${(process.pid + 7) % 100000}`;
const link = new VethPair(`secc-d-${id}`, `secc-ev-${id}`, `vsd${id}a`, `vsd${id}b`);
const [NS_SECC, NS_EV, IF_SECC, IF_EV] = [link.nsEvse, link.nsEv, link.ifEvse, link.ifEv];

function createTopology(): string | undefined {
  if (!isAvailable()) return 'the @opensecc/rawsock addon is not built';
  return link.create();
}

test('secc start --sim --iface: an EV on the other end of a veth pair matches with the daemon', async (t: TestContext) => {
  const why = createTopology();
  if (why) {
    t.skip(why);
    return;
  }
  t.after(() => link.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'opensecc-slac-daemon-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pluginHost: { watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
      plugins: Object.fromEntries(builtInPlugins().map((p) => [p.name, { enabled: false }])),
    }),
  );
  const daemon = spawn('ip', ['netns', 'exec', NS_SECC, process.execPath, SECC, 'start', '--sim', '--iface', IF_SECC, '--config', config], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => void daemon.kill('SIGKILL'));
  const logs: Array<Record<string, any>> = [];
  createInterface({ input: daemon.stdout }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, any>);
    } catch {
      /* not a log line */
    }
  });
  const waitLog = (what: string, match: (l: Record<string, any>) => boolean, ms = 20000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const start = Date.now();
      const poll = setInterval(() => {
        const hit = logs.find(match);
        if (hit) {
          clearInterval(poll);
          resolve(hit);
        } else if (Date.now() - start > ms || daemon.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`no log line for ${what}; daemon logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`));
        }
      }, 50);
    });
  await waitLog('kernel ready', (l) => l.msg === 'kernel ready');

  const ev = spawn('ip', ['netns', 'exec', NS_EV, process.execPath, PEER, 'ev', IF_EV, '{}'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => void ev.kill('SIGKILL'));
  const evLines: Array<Record<string, any>> = [];
  createInterface({ input: ev.stdout }).on('line', (line) => evLines.push(JSON.parse(line) as Record<string, any>));
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (evLines.some((l) => l.ready)) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  ev.stdin.end('go\n');
  const evExit = await new Promise<number | null>((resolve) => ev.on('close', resolve));
  const result = evLines.at(-1)!;
  assert.equal(evExit, 0, JSON.stringify(result));
  assert.equal(result.result.ok, true, result.result.reason);

  // The daemon saw the same match, and the simulated car was "plugged in" by it (state B, 5 %).
  const matched = await waitLog('the daemon SLAC match', (l) => l.component === 'slac' && l.msg === 'CM_SLAC_MATCH.CNF sent: matched');
  assert.equal(matched.nid, result.result.nid);
  await waitLog('CP state B', (l) => l.component === 'iec61851' && l.cp === 'B');

  daemon.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => daemon.on('close', resolve));
  assert.equal(code, 0);
});
