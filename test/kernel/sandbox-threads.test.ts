/**
 * Sandboxed plugins run at a low OS priority: the plugin host gives isolated-vm's thread pool
 * (one process-wide pool, cpus + 1 threads) the nice value pluginHost.sandbox.nice (default 19)
 * before the first sandboxed plugin loads. Checked on the real process: every thread's nice value
 * and CPU time come from /proc/self/task/<tid>/stat.
 *
 * The pool belongs to the process and the first call decides its threads, so the tests of this file
 * share it (node:test runs them in order, in one process): the first finds the pool and leaves it at
 * nice 10, so that the second sees the plugin host set it to 19.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigService } from '@opensecc/core/config/config-service';
import { ConfigError } from '@opensecc/core/config/errors';
import { DEFAULTS_FILE } from '@opensecc/core/daemon/paths';
import { setSandboxThreadPriority } from '@opensecc/core/plugins/sandbox-threads';
import type { Logger } from '@opensecc/plugin-api';
import { makeKernel, waitFor } from './harness.js';

const KERNEL = { kind: 'kernel', name: 'test' } as const;
const LINUX = process.platform === 'linux' ? false : 'per-thread priorities are set on Linux only';

interface ThreadStat {
  readonly tid: number;
  /** Clock ticks spent in user mode. */
  readonly utime: number;
  readonly nice: number;
}

/** Every thread of this process (proc(5): after the ")" closing comm, utime is field 14 and nice field 19). */
function threads(): Map<number, ThreadStat> {
  const out = new Map<number, ThreadStat>();
  for (const entry of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${entry}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between readdir and read
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    const tid = Number(entry);
    out.set(tid, { tid, utime: Number(fields[14 - 3]), nice: Number(fields[19 - 3]) });
  }
  return out;
}

const withNice = (nice: number) => [...threads().values()].filter((t) => t.nice === nice).map((t) => t.tid).sort((a, b) => a - b);

/** A logger that keeps what it is told (for setSandboxThreadPriority called directly). */
function recordingLogger(): { log: Logger; infos: Array<Record<string, unknown>> } {
  const infos: Array<Record<string, unknown>> = [];
  const ignore = () => {};
  const log: Logger = {
    trace: ignore,
    debug: ignore,
    info: ((fields: unknown) => void (typeof fields === 'object' && fields !== null && infos.push(fields as Record<string, unknown>))) as Logger['info'],
    warn: ignore,
    error: ignore,
    fatal: ignore,
    child: () => log,
  };
  return { log, infos };
}

/** A sandboxed plugin that does a fixed amount of CPU work (about 0.3 s of CPU here) per request. */
const BURNER = `import { definePlugin } from '@opensecc/plugin-api';
export default definePlugin({
  manifest: { name: 'burner', version: '1.0.0', bus: { read: ['test/burn'], write: ['test/burner/#'] } },
  start(ctx) {
    ctx.bus.subscribe('test/burn', (message) => {
      const { round, iterations } = message.value;
      let x = 0;
      for (let i = 0; i < iterations; i++) x = (x + Math.sqrt(i)) % 1e9;
      ctx.bus.publish('test/burner/done', { round, x });
    });
    ctx.bus.publish('test/burner/alive', true);
  },
});
`;

/** The pool threads as the first test found them (the pool lives as long as the process). */
let pool: number[] = [];

test('setSandboxThreadPriority fills the pool and sets exactly its threads, which it reports; the main thread and the rest keep nice 0', { skip: LINUX }, async () => {
  const { log, infos } = recordingLogger();
  const existing = new Set(threads().keys());
  assert.deepEqual(withNice(10), [], 'no thread at nice 10 yet');
  await setSandboxThreadPriority(10, log);
  const reported = [...((infos.at(-1)?.threads ?? []) as number[])].sort((a, b) => a - b);
  assert.equal(infos.at(-1)?.nice, 10);
  assert.equal(reported.length, cpus().length + 1, "isolated-vm's pool: one thread per CPU, plus one");
  assert.ok(reported.every((tid) => !existing.has(tid)), 'all of them threads the pool started');
  assert.deepEqual(withNice(10), reported, 'exactly the reported threads run at nice 10');
  for (const t of threads().values()) if (!reported.includes(t.tid)) assert.equal(t.nice, 0, `thread ${t.tid} outside the pool keeps nice 0`);
  assert.equal(threads().get(process.pid)?.nice, 0, 'the main thread (event loop) keeps nice 0');

  // The pool is known now: the same value again changes nothing, another goes to the same threads.
  await setSandboxThreadPriority(10, log);
  assert.deepEqual(withNice(10), reported);
  await setSandboxThreadPriority(15, log);
  assert.deepEqual(withNice(15), reported, 'a later value goes to the same threads');
  assert.deepEqual(withNice(10), [], 'none left at the old value');
  await setSandboxThreadPriority(10, log); // and back: lowering nice is allowed to root
  assert.deepEqual(withNice(10), reported);
  pool = reported;
});

test('the plugin host applies pluginHost.sandbox.nice (default 19) to the pool before a sandboxed plugin runs, and a plugin burning CPU burns it at nice 19', { skip: LINUX }, async (t) => {
  if (pool.length === 0) return t.skip('needs the pool found by the previous test');
  const existing = new Set(threads().keys());
  const { kernel, pluginsDir, logs } = makeKernel({}, {}, {
    // A generous per-call limit: the burn is a fixed amount of work, however slowly a loaded machine runs it.
    sandbox: { memoryMiB: 32, cpuTimeMs: 60000, queueLimit: 100 },
  });
  await kernel.start();
  try {
    mkdirSync(pluginsDir, { recursive: true });
    writeFileSync(join(pluginsDir, 'burner.mjs'), BURNER);
    await waitFor('burner alive', () => kernel.bus.get('test/burner/alive') === true);

    const line = logs.find((l) => l.msg === 'sandboxed plugins run on threads of their own at this priority');
    assert.ok(line, 'the host set the priority (the previous test left the pool at 10)');
    assert.equal(line.nice, 19, 'the default of pluginHost.sandbox.nice');
    assert.deepEqual([...(line.threads as number[])].sort((a, b) => a - b), pool, 'on the same pool threads');
    assert.deepEqual(withNice(10), [], 'no pool thread left at the earlier value');
    const at19 = withNice(19);
    for (const tid of pool) assert.ok(at19.includes(tid), `pool thread ${tid} runs at nice 19`);
    // isolated-vm arms each call's time limit on a timer thread that the pool thread running the call
    // starts, and a new thread inherits its creator's priority: those may show up at 19 too, but every
    // thread the process had before the kernel started, the pool aside, keeps nice 0.
    for (const tid of at19) assert.ok(pool.includes(tid) || !existing.has(tid), `thread ${tid} at nice 19 is the pool's or one started since`);
    for (const t of threads().values()) if (existing.has(t.tid) && !pool.includes(t.tid)) assert.equal(t.nice, 0, `thread ${t.tid} keeps nice 0`);
    assert.equal(threads().get(process.pid)?.nice, 0, 'the main thread (event loop) keeps nice 0');

    // The behaviour that matters: the plugin's CPU time is spent on a pool thread at nice 19.
    for (let round = 1; round <= 2; round++) {
      const before = threads();
      kernel.bus.publish('test/burn', { round, iterations: 10_000_000 }, KERNEL, { retain: false });
      await waitFor(`burn round ${round}`, () => (kernel.bus.get<{ round: number }>('test/burner/done')?.round === round ? true : undefined), 60_000);
      const after = threads();
      const burnt = [...after.values()]
        .map((t) => ({ tid: t.tid, nice: t.nice, ticks: t.utime - (before.get(t.tid)?.utime ?? 0) }))
        .sort((a, b) => b.ticks - a.ticks);
      const busiest = burnt[0]!;
      const where = JSON.stringify(burnt.slice(0, 4));
      assert.ok(pool.includes(busiest.tid), `round ${round}: the busiest thread is a pool thread (${where})`);
      assert.equal(busiest.nice, 19, `round ${round}: and it runs at nice 19 (${where})`);
      assert.ok(busiest.ticks >= 10, `round ${round}: it did the plugin's work, at least 0.1 s of CPU of the ~0.3 s (${where})`);
      const main = burnt.find((t) => t.tid === process.pid)!;
      assert.ok(main.ticks < busiest.ticks, `round ${round}: not the main thread (${where})`);
    }
    assert.equal(kernel.plugins.list().find((p) => p.name === 'burner')?.state, 'running', 'the burns stayed under the CPU time limit');
  } finally {
    await kernel.stop();
  }
});

test('config: pluginHost.sandbox.nice defaults to 19 and refuses values outside 0..19, naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opensecc-nice-'));
  const load = (nice: unknown) => {
    const userFile = join(dir, `config-${String(nice)}.json`);
    writeFileSync(userFile, JSON.stringify(nice === undefined ? {} : { pluginHost: { sandbox: { nice } } }));
    return { userFile, load: () => new ConfigService({ defaultsFile: DEFAULTS_FILE, userFile }).loadSync() };
  };
  assert.equal(load(undefined).load().pluginHost.sandbox.nice, 19);
  assert.equal(load(0).load().pluginHost.sandbox.nice, 0);
  assert.equal(load(10).load().pluginHost.sandbox.nice, 10);
  for (const [nice, reason] of [
    [20, /must be <= 19/],
    [-1, /must be >= 0/],
    [5.5, /must be integer/],
    ['19', /must be integer/],
  ] as const) {
    const { userFile, load: attempt } = load(nice);
    assert.throws(attempt, (error: unknown) => {
      assert.ok(error instanceof ConfigError, `nice ${JSON.stringify(nice)}: a ConfigError`);
      assert.equal(error.problems.length, 1, `nice ${JSON.stringify(nice)}: one problem (${error.message})`);
      const [problem] = error.problems;
      assert.equal(problem!.file, userFile, 'names the operator file');
      assert.equal(problem!.path, '/pluginHost/sandbox/nice', 'names the setting');
      assert.match(problem!.reason, reason);
      assert.match(error.message, /\/pluginHost\/sandbox\/nice/);
      return true;
    });
  }
});
