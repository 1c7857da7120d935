import ivm from 'isolated-vm';
import { readdirSync } from 'node:fs';
import { cpus, setPriority } from 'node:os';
import type { Logger } from '@opensecc/plugin-api';

/**
 * The OS priority of the threads that run sandboxed plugins.
 *
 * isolated-vm runs every isolate on one process-wide pool of native threads (one per CPU, plus
 * one), started lazily and unnamed. They run untrusted code, so they get a low priority (nice
 * 19 by default): a plugin that burns CPU then gets little of it while the event loop (control
 * pilot, SLAC, V2G) and the rest of the station want it, instead of an equal share.
 *
 * Node has no per-thread priority API, but on Linux setpriority(PRIO_PROCESS, tid) sets one
 * thread's. The pool's threads are told apart from Node's own by filling the pool before the
 * first plugin runs: a new isolate's first call always starts a thread while the pool is not
 * full, and isolated-vm starts it synchronously inside that call, so the threads that appear
 * during the call are the pool's.
 *
 * Threads a pool thread starts inherit its priority (isolated-vm's timer for a call's CPU-time
 * limit). Not covered: when every pool thread is busy, isolated-vm runs a task on a short-lived
 * extra thread started from the event loop, which keeps the daemon's priority.
 */
/** isolated-vm's pool is one per process, and so is what we learnt about it. */
let pool: Promise<number[]> | undefined;
let applied: number | undefined;

/**
 * Start the pool if need be and give its threads `nice` (0 is the normal priority). Call it
 * before the first isolate runs, so that the pool's threads are all started here.
 */
export async function setSandboxThreadPriority(nice: number, log: Logger): Promise<void> {
  if (process.platform !== 'linux') return;
  pool ??= startPool();
  let threads: number[];
  try {
    threads = await pool;
  } catch (error) {
    log.warn({ err: error }, 'could not find the sandbox threads; they keep the daemon priority');
    return;
  }
  if (applied === nice) return;
  applied = nice;
  const set: number[] = [];
  for (const tid of threads) {
    try {
      setPriority(tid, nice);
      set.push(tid);
    } catch (error) {
      log.warn({ err: error, tid, nice }, 'could not set the priority of a sandbox thread');
    }
  }
  log.info({ threads: set, nice }, 'sandboxed plugins run on threads of their own at this priority');
}

/** Thread ids of this process. */
function liveThreads(): Set<number> {
  return new Set(readdirSync('/proc/self/task').map(Number));
}

/** Fill isolated-vm's thread pool and return the ids of the threads it started. */
async function startPool(): Promise<number[]> {
  const poolSize = cpus().length + 1; // isolated-vm: std::thread::hardware_concurrency() + 1
  const started: number[] = [];
  const isolates: ivm.Isolate[] = [];
  try {
    while (started.length < poolSize) {
      const isolate = new ivm.Isolate({ memoryLimit: 8 });
      isolates.push(isolate);
      const before = liveThreads();
      const call = isolate.createContext();
      const added = [...liveThreads()].filter((tid) => !before.has(tid));
      await call;
      if (added.length === 0) break; // the pool was already full (threads free for reuse)
      started.push(...added);
    }
  } finally {
    for (const isolate of isolates) isolate.dispose();
  }
  return started;
}
