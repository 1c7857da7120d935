/**
 * bench:v2g — CurrentDemandReq → CurrentDemandRes latency of the SECC as the EV sees it (request
 * written to response read, on loopback), over ≥ 10 000 loops, with the daemon as deployed: MQTT
 * API and embedded broker running with a subscriber on ci/#, logging at info. Then the same while
 * a sandboxed plugin burns CPU. Also the daemon's RSS during the session.
 * Figures (CONTRACTS.md): v2g.din.currentdemand.latency_us.{p50,p99,p999}[.cpu_hog], v2g.session.rss_mb.
 * Run: npm run bench:v2g -- --json   (BENCH_LOOPS overrides the loop count)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from '@opensecc/exi-codec';
import { Battery } from '@opensecc/core/sim/battery';
import { DinEvcc, discoverSecc, V2gtpClient } from '@opensecc/core/v2g/index';

const SECC = fileURLToPath(new URL('../../../../bin/secc.js', import.meta.url));
const LOOPS = Number(process.env.BENCH_LOOPS ?? 10_000);
/** Pause between CurrentDemand loops, ms (a real EV waits tens of ms; 0 = back to back). */
/** BENCH_NO_MQTT=1: without the MQTT API, to see its share. */
const MQTT = process.env.BENCH_NO_MQTT !== '1';
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 0);

interface Figure {
  name: string;
  unit: string;
  value: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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

/** One DIN session through to the end; latencies of the CurrentDemand round trips in µs. */
async function session(loops: number, onLoop?: () => void): Promise<number[]> {
  const secc = await discoverSecc({ target: '::1', request: { security: 'none', transport: 'tcp' } });
  const client = await V2gtpClient.connect({ host: '::1', port: secc.port });
  const latencies: number[] = [];
  const request = client.request.bind(client);
  client.request = async (payload, timeoutMs) => {
    const start = process.hrtime.bigint();
    const response = await request(payload, timeoutMs);
    const micros = Number(process.hrtime.bigint() - start) / 1000;
    let body: object | undefined;
    try {
      body = (decode('din', response.payload) as { V2G_Message?: { Body: object } }).V2G_Message?.Body;
    } catch {
      body = undefined; // the app handshake's response is not a DIN document
    }
    if (body && 'CurrentDemandRes' in body) {
      latencies.push(micros);
      onLoop?.();
    }
    return response;
  };
  // An EV that asks for a changing current each loop (so the bus and MQTT carry new values) and
  // is done after `loops` CurrentDemand round trips.
  const battery = new Battery({ initialSoc: 20, targetSoc: 100, capacityWh: 1e7 });
  let n = 0;
  const ev = Object.assign(Object.create(battery) as Battery, {
    requestedCurrent: () => 50 + (n++ % 50),
    complete: () => latencies.length >= loops,
  });
  const result = await new DinEvcc({ client, ev, pollMs: 20, loopMs: GAP_MS, responseTimeoutMs: 5000 }).run();
  client.close();
  if (!result.ok) throw new Error(`bench session failed: ${result.stopReason}`);
  return latencies.sort((a, b) => a - b);
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
      plugins: { 'mqtt-broker': { enabled: MQTT, config: { port: mqttPort } }, 'mqtt-api': { enabled: MQTT }, 'firmware-update': { enabled: false }, logging: { enabled: false } },
      v2g: { security: 'none' },
    }),
  );
  const daemon = spawn(process.execPath, [SECC, 'start', '--sim', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  daemon.stdout!.on('data', (c: Buffer) => {
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
      const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1]);
      rss = Math.max(rss, kib / 1024);
    };
    let count = 0;
    const plain = await session(LOOPS, () => ++count % 1000 === 0 && measureRss());
    figures.push(
      { name: 'v2g.din.currentdemand.latency_us.p50', unit: 'us', value: percentile(plain, 50) },
      { name: 'v2g.din.currentdemand.latency_us.p99', unit: 'us', value: percentile(plain, 99) },
      { name: 'v2g.din.currentdemand.latency_us.p999', unit: 'us', value: percentile(plain, 99.9) },
      { name: 'v2g.session.rss_mb', unit: 'MiB', value: rss },
    );

    writeFileSync(join(plugins, 'cpu-hog.mjs'), HOG);
    for (let i = 0; i < 200 && !/"name":"cpu-hog".*"plugin started"|"plugin started".*"cpu-hog"/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500)); // the board follower unplugs after the last session
    const hog = await session(LOOPS);
    figures.push(
      { name: 'v2g.din.currentdemand.latency_us.p50.cpu_hog', unit: 'us', value: percentile(hog, 50) },
      { name: 'v2g.din.currentdemand.latency_us.p99.cpu_hog', unit: 'us', value: percentile(hog, 99) },
      { name: 'v2g.din.currentdemand.latency_us.p999.cpu_hog', unit: 'us', value: percentile(hog, 99.9) },
    );
    subscriber.kill('SIGTERM');
    await new Promise((r) => subscriber.once('exit', r));
    const received = Number(/received (\d+)/.exec(subscriberOut)?.[1] ?? 0);
    if (MQTT && received < LOOPS) throw new Error(`the MQTT subscriber received ${received} messages: the MQTT API was not active`);
  } finally {
    daemon.kill('SIGTERM');
  }
  const json = process.argv.includes('--json');
  for (const f of figures) {
    const value = Number(f.value.toFixed(3));
    process.stdout.write(json ? JSON.stringify({ name: f.name, unit: f.unit, value }) + '\n' : `${f.name.padEnd(52)} ${String(value).padStart(10)} ${f.unit}\n`);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:v2g failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
