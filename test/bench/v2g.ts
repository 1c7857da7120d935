/**
 * bench:v2g — CurrentDemandReq → CurrentDemandRes latency of the SECC as the EV sees it (request
 * written to response read, on loopback), over ≥ 10 000 loops, with the daemon as deployed: MQTT
 * API and embedded broker running with a subscriber on ci/#, logging at info, and the logging
 * plugin writing its log file and its default traces (every V2G message to v2g.ndjson). Then the
 * same while a sandboxed plugin burns CPU. Also the daemon's RSS during the session.
 * Figures (CONTRACTS.md): v2g.din.currentdemand.latency_us.{p50,p99,p999}[.cpu_hog], v2g.session.rss_mb;
 * v2g.din.currentdemand.daemon_cpu_us[.cpu_hog]: CPU time of the daemon's event loop per loop;
 * and v2g.loopback_floor.latency_us.{p50,p99,p999}: the same round trip to a peer that only echoes,
 * the floor this machine's loopback and scheduler set (on a shared 2-vCPU VM its p99 alone can
 * exceed a millisecond), measured while the daemon idles.
 * The daemon runs with the node flags of config/systemd/opensecc.service, as deployed.
 * Each session first runs BENCH_WARMUP_LOOPS (3 000) CurrentDemand loops that are not measured.
 * Run: npm run bench:v2g -- --json   (BENCH_LOOPS overrides the loop count)
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@opensecc/exi-codec';
import { deployedNodeFlags, freePort, rssMiB, SECC } from './daemon.js';
import { percentile, report, type Figure } from './report.js';
import { Battery } from '@opensecc/core/sim/battery';
import { DinEvcc, discoverSecc, V2gtpClient } from '@opensecc/core/v2g/index';

const LOOPS = Number(process.env.BENCH_LOOPS ?? 10_000);
/**
 * CurrentDemand loops run before the measured ones in each session, and not counted: the first
 * couple of thousand run while V8 still compiles the request path (interpreted, then baseline,
 * then optimised), which is start-up cost, not the steady latency a charging car sees.
 */
const WARMUP_LOOPS = Number(process.env.BENCH_WARMUP_LOOPS ?? 3_000);
/** BENCH_NO_MQTT=1: without the MQTT API, to see its share. */
const MQTT = process.env.BENCH_NO_MQTT !== '1';
/** Pause between CurrentDemand loops, ms (a real EV waits tens of ms; 0 = back to back). */
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 0);
/** BENCH_DAEMON_NODE_ARGS: extra node flags for the daemon, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it. */
const DAEMON_NODE_ARGS = [...deployedNodeFlags(), ...(process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean)];

const SUBSCRIBER = `
import mqtt from ${JSON.stringify(import.meta.resolve('mqtt'))};
const client = await mqtt.connectAsync('mqtt://127.0.0.1:' + process.argv[1]);
let received = 0;
client.on('message', () => received++);
await client.subscribeAsync('ci/#');
console.log('subscribed');
process.on('SIGTERM', () => { console.log('received ' + received); process.exit(0); });
`;

const HOG = `import { definePlugin } from '@opensecc/plugin-api';
export default definePlugin({
  manifest: { name: 'cpu-hog', version: '1.0.0', description: 'bench: burns CPU in its sandbox', sandbox: { memoryMiB: 16, cpuTimeMs: 200 } },
  start(ctx) {
    const timer = setInterval(() => { const end = Date.now() + 40; let x = 0; while (Date.now() < end) x++; }, 45);
    return { stop() { clearInterval(timer); } };
  },
});
`;

/**
 * The platform's floor: the same request/response round trip over TCP loopback between two node
 * processes, with a peer that does nothing but answer (one V2GTP message per write, as the SECC).
 * The SECC's own share of the latency is what it adds to this.
 */
const ECHO_PEER = `
import { connect, createServer } from 'node:net';
const response = Buffer.from(process.argv[1], 'hex');
const server = createServer((socket) => {
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8 && pending.length >= 8 + pending.readUInt32BE(4)) {
      pending = pending.subarray(8 + pending.readUInt32BE(4));
      socket.write(response);
    }
  });
}).listen(0, '::1', () => console.log(server.address().port));
`;

async function loopbackFloor(loops: number): Promise<number[]> {
  const v2gtp = (exiHex: string) => {
    const payload = Buffer.from(exiHex, 'hex');
    const header = Buffer.from([0x01, 0xfe, 0x80, 0x01, 0, 0, 0, 0]);
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  // The Ioniq's CurrentDemandReq and a CurrentDemandRes of the same session's size.
  const request = v2gtp('809a02004080c1014181c210d100000ba0406014010285010004061a01e04070c84c0400c081e00604000040a1503c00');
  const response = v2gtp('809a0200408' + '0'.repeat(40));
  const peer = spawn(process.execPath, ['--input-type=module', '-e', ECHO_PEER, response.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = Number(await new Promise<string>((resolve) => peer.stdout!.once('data', (c: Buffer) => resolve(c.toString()))));
    const socket = connect({ host: '::1', port });
    socket.setNoDelay(true);
    await new Promise((resolve) => socket.once('connect', resolve));
    const latencies: number[] = [];
    let received = 0;
    let wake: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= response.length) {
        received -= response.length;
        wake?.();
      }
    });
    for (let i = 0; i < loops; i++) {
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        wake = resolve;
        socket.write(request);
      });
      latencies.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    socket.destroy();
    return latencies.sort((a, b) => a - b);
  } finally {
    peer.kill('SIGTERM');
  }
}

/**
 * One DIN session through to the end; latencies of `loops` CurrentDemand round trips in µs. The
 * simulated EV runs the session (SessionSetup … PowerDelivery, and the stop), but the measured
 * loop is a lean EV: requests encoded beforehand (50 target currents, so the bus and MQTT carry
 * new values each loop), written and timed to the complete response, checked after the clock
 * stops. Otherwise the EV simulator's own work and garbage would be measured as the SECC's.
 */
async function session(loops: number, daemonPid: number, onLoop?: () => void): Promise<{ latencies: number[]; daemonCpuUsPerLoop: number }> {
  const secc = await discoverSecc({ target: '::1', request: { security: 'none', transport: 'tcp' } });
  const client = await V2gtpClient.connect({ host: '::1', port: secc.port });
  const latencies: number[] = [];
  const request = client.request.bind(client);
  let measured = false;
  let daemonCpuNs = 0;
  client.request = async (payload, timeoutMs) => {
    if (measured || !isCurrentDemandReq(payload)) return request(payload, timeoutMs);
    measured = true;
    const variants = currentDemandVariants(payload);
    let last = await request(payload, timeoutMs);
    for (let i = 0; i < WARMUP_LOOPS; i++) last = await request(variants[i % variants.length]!, timeoutMs);
    const cpuBefore = eventLoopCpuNs(daemonPid);
    for (let i = 0; i < loops; i++) {
      const next = variants[i % variants.length]!;
      if (GAP_MS > 0) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      const start = process.hrtime.bigint();
      last = await request(next, timeoutMs);
      latencies.push(Number(process.hrtime.bigint() - start) / 1000);
      const code = (decode('din', last.payload) as { V2G_Message?: { Body?: { CurrentDemandRes?: { ResponseCode?: string } } } }).V2G_Message?.Body?.CurrentDemandRes?.ResponseCode;
      if (code !== 'OK') throw new Error(`CurrentDemandRes ${String(code)} in loop ${i}`);
      onLoop?.();
    }
    daemonCpuNs = eventLoopCpuNs(daemonPid) - cpuBefore;
    return last;
  };
  const battery = new Battery({ initialSoc: 20, targetSoc: 100, capacityWh: 1e7 });
  const ev = Object.assign(Object.create(battery) as Battery, { complete: () => measured });
  const result = await new DinEvcc({ client, ev, pollMs: 20, loopMs: 0, responseTimeoutMs: 5000 }).run();
  client.close();
  if (!result.ok) throw new Error(`bench session failed: ${result.stopReason}`);
  return { latencies: latencies.sort((a, b) => a - b), daemonCpuUsPerLoop: daemonCpuNs / 1000 / loops };
}

/**
 * CPU time of the daemon's main thread (its event loop: V2G, MQTT API, logging), ns. Its share
 * per loop does not depend on how the machine schedules, so it shows the daemon's own cost
 * where the latency percentiles also show the neighbours'.
 */
function eventLoopCpuNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

function isCurrentDemandReq(payload: Uint8Array): boolean {
  try {
    return 'CurrentDemandReq' in ((decode('din', payload) as { V2G_Message?: { Body?: object } }).V2G_Message?.Body ?? {});
  } catch {
    return false; // the app handshake is not a DIN document
  }
}

/** The EV's CurrentDemandReq with target currents 50…99 A, encoded once. */
function currentDemandVariants(payload: Uint8Array): Uint8Array[] {
  const document = decode('din', payload) as { V2G_Message: { Body: { CurrentDemandReq: { EVTargetCurrent: { Value: number; Multiplier: number } } } } };
  return Array.from({ length: 50 }, (_, i) => {
    const target = document.V2G_Message.Body.CurrentDemandReq.EVTargetCurrent;
    target.Value = 50 + i;
    target.Multiplier = 0;
    return encode('din', document);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-v2g-'));
  const plugins = join(dir, 'plugins');
  mkdirSync(plugins);
  const mqttPort = await freePort();
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'info' },
      pluginHost: { watch: true, watchDir: plugins, dataDir: join(dir, 'data'), runDir: join(dir, 'run'), sandboxHotLoaded: true },
      plugins: { 'mqtt-broker': { enabled: MQTT, config: { port: mqttPort } }, 'mqtt-api': { enabled: MQTT }, 'firmware-update': { enabled: false }, logging: { enabled: true, config: { dir: join(dir, 'log') } } },
      v2g: { security: 'none' },
    }),
  );
  const daemon = spawn(process.execPath, [...DAEMON_NODE_ARGS, SECC, 'start', '--sim', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const daemonLog = process.env.BENCH_DAEMON_STDOUT; // a file to copy the daemon's stdout into, for diagnosis
  daemon.stdout!.on('data', (c: Buffer) => {
    if (daemonLog) appendFileSync(daemonLog, c);
    out += c.toString();
    if (out.length > 1e6) out = out.slice(-1e5);
  });
  const figures: Figure[] = [];
  try {
    for (let i = 0; i < 400 && !out.includes('"msg":"kernel ready"'); i++) await new Promise((r) => setTimeout(r, 50));
    if (!out.includes('"msg":"kernel ready"')) throw new Error('daemon did not start');
    // The MQTT subscriber runs in its own process, so its work does not sit in the EV's event loop.
    const subscriber = spawn(process.execPath, MQTT ? ['--input-type=module', '-e', SUBSCRIBER, String(mqttPort)] : ['-e', 'console.log("subscribed"); process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000);'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let subscriberOut = '';
    subscriber.stdout!.on('data', (c: Buffer) => (subscriberOut += c.toString()));
    for (let i = 0; i < 100 && !subscriberOut.includes('subscribed'); i++) await new Promise((r) => setTimeout(r, 50));

    let rss = 0;
    const measureRss = () => {
      rss = Math.max(rss, rssMiB(daemon.pid!));
    };
    let count = 0;
    const { latencies: plain, daemonCpuUsPerLoop } = await session(LOOPS, daemon.pid!, () => ++count % 1000 === 0 && measureRss());
    figures.push(
      { name: 'v2g.din.currentdemand.latency_us.p50', unit: 'us', value: percentile(plain, 50) },
      { name: 'v2g.din.currentdemand.latency_us.p99', unit: 'us', value: percentile(plain, 99) },
      { name: 'v2g.din.currentdemand.latency_us.p999', unit: 'us', value: percentile(plain, 99.9) },
      { name: 'v2g.session.rss_mb', unit: 'MiB', value: rss },
      { name: 'v2g.din.currentdemand.daemon_cpu_us', unit: 'us', value: daemonCpuUsPerLoop },
    );

    writeFileSync(join(plugins, 'cpu-hog.mjs'), HOG);
    for (let i = 0; i < 200 && !/"component":"plugin:cpu-hog".*"msg":"plugin started"/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    if (!/"component":"plugin:cpu-hog".*"msg":"plugin started"/.test(out)) throw new Error('the cpu-hog plugin did not start');
    await new Promise((r) => setTimeout(r, 1500)); // the board follower unplugs after the last session
    const { latencies: hog, daemonCpuUsPerLoop: hogCpu } = await session(LOOPS, daemon.pid!);
    figures.push(
      { name: 'v2g.din.currentdemand.latency_us.p50.cpu_hog', unit: 'us', value: percentile(hog, 50) },
      { name: 'v2g.din.currentdemand.latency_us.p99.cpu_hog', unit: 'us', value: percentile(hog, 99) },
      { name: 'v2g.din.currentdemand.latency_us.p999.cpu_hog', unit: 'us', value: percentile(hog, 99.9) },
      { name: 'v2g.din.currentdemand.daemon_cpu_us.cpu_hog', unit: 'us', value: hogCpu },
    );
    const floor = await loopbackFloor(LOOPS);
    figures.push(
      { name: 'v2g.loopback_floor.latency_us.p50', unit: 'us', value: percentile(floor, 50) },
      { name: 'v2g.loopback_floor.latency_us.p99', unit: 'us', value: percentile(floor, 99) },
      { name: 'v2g.loopback_floor.latency_us.p999', unit: 'us', value: percentile(floor, 99.9) },
    );
    subscriber.kill('SIGTERM');
    await new Promise((r) => subscriber.once('exit', r));
    const received = Number(/received (\d+)/.exec(subscriberOut)?.[1] ?? 0);
    if (MQTT && received < LOOPS) throw new Error(`the MQTT subscriber received ${received} messages: the MQTT API was not active`);
  } finally {
    // Wait for the daemon to stop (a --cpu-prof profile is written on exit), then leave no files.
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
    rmSync(dir, { recursive: true, force: true });
  }
  report(figures);
}

main().catch((error: Error) => {
  process.stderr.write(`bench:v2g failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
