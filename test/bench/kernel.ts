/**
 * bench:kernel — cold start of `secc start --sim` to "kernel ready" and the daemon's RSS at that
 * moment, median of several runs. The daemon runs with the shipped defaults (embedded broker on a
 * free port, the MQTT API on it in process, logging, firmware update) and the node flags of the
 * systemd unit, so the figure is what a device sees.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployedNodeFlags, freePort, rssMiB, SECC } from './daemon.js';
import { percentile, report } from './report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);



async function once(): Promise<{ ms: number; rss: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'opensecc-bench-'));
  const port = await freePort();
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'info' },
      pluginHost: { watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
      plugins: {
        'mqtt-broker': { config: { port } },
        'firmware-update': { config: { cacheDir: join(dir, 'cache') } },
      },
    }),
  );
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...deployedNodeFlags(), SECC, 'start', '--sim', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const ms = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready after 30 s:\n${output}`)), 30000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"kernel ready"')) {
        clearTimeout(timer);
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
      }
    });
    child.on('exit', (code) => reject(new Error(`daemon exited with ${code} before ready:\n${output}`)));
  });
  const rss = rssMiB(child.pid!);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return { ms, rss };
}

const runs: Array<{ ms: number; rss: number }> = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
report([
  { name: 'kernel.startup_ms', unit: 'ms', value: percentile(runs.map((r) => r.ms).sort((a, b) => a - b), 50) },
  { name: 'kernel.rss_mb', unit: 'MiB', value: percentile(runs.map((r) => r.rss).sort((a, b) => a - b), 50) },
]);
