/**
 * EVSE and EV SLAC over real raw sockets: a veth pair between two network namespaces, one process per
 * side. Needs root (CAP_NET_ADMIN for `ip netns`, CAP_NET_RAW for the sockets) and the rawsock addon;
 * where that is missing the test says so and is skipped.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isAvailable } from '@opensecc/rawsock';
import { VethPair } from '#support/netns.js';

const PEER = fileURLToPath(new URL('./helpers/netns-peer.js', import.meta.url));
const link = VethPair.named('slac', 'vslc');
const [NS_EVSE, NS_EV, IF_EVSE, IF_EV] = [link.nsEvse, link.nsEv, link.ifEvse, link.ifEv];

/** Creates the namespaces and the veth pair, or returns why it cannot. */
function createTopology(): string | undefined {
  if (!isAvailable()) return 'the @opensecc/rawsock addon is not built';
  return link.create();
}

interface Peer {
  ready: Promise<{ mac: string }>;
  go(): void;
  done: Promise<Record<string, any>>;
}

function startPeer(ns: string, role: 'evse' | 'ev', iface: string, config: object): Peer {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PEER, role, iface, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  let resolveReady!: (v: { mac: string }) => void;
  const ready = new Promise<{ mac: string }>((r) => (resolveReady = r));
  const done = new Promise<Record<string, any>>((resolve, reject) => {
    let last: Record<string, any> | undefined;
    lines.on('line', (line) => {
      const value = JSON.parse(line) as Record<string, any>;
      if (value.ready) resolveReady(value as { mac: string });
      else last = value;
    });
    child.on('close', (code) => {
      if (last && !last.error) resolve(last);
      else reject(new Error(`${role} peer failed (exit ${code}): ${last?.error ?? ''} ${stderr}`));
    });
  });
  done.catch(() => resolveReady({ mac: '' }));
  return { ready, done, go: () => child.stdin.end('go\n') };
}

async function run(evseConfig: object, evConfig: object) {
  const evse = startPeer(NS_EVSE, 'evse', IF_EVSE, evseConfig);
  const ev = startPeer(NS_EV, 'ev', IF_EV, evConfig);
  await Promise.all([evse.ready, ev.ready]);
  evse.go();
  ev.go();
  const [evseOut, evOut] = await Promise.all([evse.done, ev.done]);
  return { evse: evseOut, ev: evOut };
}

// Short enough for a fast test, long enough for process and veth latency.
const TIMERS = { evseSlacInitMs: 800, matchSequenceMs: 400, matchResponseMs: 100, evseMatchMnbcMs: 600, evAttenResultsMs: 1200, evseMatchSessionMs: 600, evBatchMsgIntervalMs: 5, soundingGraceMs: 30 };

test('SLAC over raw sockets on a veth pair between two network namespaces', async (t: TestContext) => {
  const why = createTopology();
  if (why) {
    t.skip(why);
    return;
  }
  try {
    await t.test('EVSE and EV reach a match', async () => {
      const { evse, ev } = await run({ timers: TIMERS }, { timers: TIMERS });
      assert.equal(ev.result.ok, true, ev.result.reason);
      assert.equal(evse.report.result, 'matched');
      assert.equal(evse.report.nid, ev.result.nid, 'both ends agree on the NID');
      assert.equal(evse.report.run_id, ev.result.runId);
      assert.deepEqual(evse.states, ['waiting_for_parm', 'sounding', 'matching', 'matched']);
      // A veth pair does not pad: every frame arrived at 60 bytes or more because the sender padded it.
      assert.ok(evse.minFrameLength >= 60, `smallest frame at the EVSE: ${evse.minFrameLength}`);
      assert.ok(ev.minFrameLength >= 60, `smallest frame at the EV: ${ev.minFrameLength}`);
      // The addon drops the host's own outgoing frames (PACKET_OUTGOING).
      assert.equal(evse.ownFramesReceived, 0);
      assert.equal(ev.ownFramesReceived, 0);
    });

    await t.test('RunID disagreement ends in timeouts, retries and a clean failure', async () => {
      const { evse, ev } = await run({ timers: TIMERS }, { timers: TIMERS, faults: { matchRunId: '0badc0de0badc0de' } });
      assert.equal(ev.result.ok, false);
      assert.equal(ev.result.attempts, 3);
      assert.match(ev.result.reason, /no CM_SLAC_MATCH\.CNF/);
      assert.equal(evse.report.result, 'failed');
      assert.ok(evse.warnings.includes('CM_SLAC_MATCH.REQ ignored: RunID mismatch'));
      assert.equal(evse.cpFailures.length, 1);
    });

    await t.test('a missing CM_SLAC_MATCH.REQ ends in TT_EVSE_match_session, a retry window and a clean failure', async () => {
      const { evse, ev } = await run({ timers: TIMERS }, { timers: TIMERS, faults: { skipMatchRequest: true } });
      assert.equal(ev.result.ok, false);
      assert.equal(evse.report.result, 'failed');
      assert.deepEqual(evse.states, ['waiting_for_parm', 'sounding', 'matching', 'waiting_for_parm', 'failed']);
      assert.ok(evse.warnings.includes('SLAC matching attempt failed'));
    });

    await t.test('a silent EV ends in TT_EVSE_SLAC_init and a clean failure', async () => {
      const evse = startPeer(NS_EVSE, 'evse', IF_EVSE, { timers: TIMERS });
      await evse.ready;
      evse.go();
      const out = await evse.done;
      assert.equal(out.report.result, 'failed');
      assert.match(out.report.reason, /TT_EVSE_SLAC_init/);
      assert.deepEqual(out.states, ['waiting_for_parm', 'failed']);
    });
  } finally {
    link.destroy();
  }
});
