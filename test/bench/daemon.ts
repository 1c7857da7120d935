/** How the benchmarks start and watch the daemon. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The `secc` entry point the benchmarks start the daemon from, and free ports for it. */
export { SECC } from '#support/daemon.js';
export { freePort } from '#support/net.js';

/**
 * The node flags of the shipped systemd unit (heap sizes), so that the benchmarks measure the
 * daemon as it is deployed, from the one place that defines it.
 */
export function deployedNodeFlags(): string[] {
  const unit = readFileSync(fileURLToPath(new URL('../../../config/systemd/opensecc.service', import.meta.url)), 'utf8');
  const execStart = /^ExecStart=\S*node\s+(.*?)\s+\S*secc\.js\b/m.exec(unit);
  if (!execStart) throw new Error('config/systemd/opensecc.service: no ExecStart line running node …/secc.js');
  return execStart[1]!.split(/\s+/).filter((flag) => flag.startsWith('--'));
}

/** Resident set size of a process, MiB. */
export function rssMiB(pid: number): number {
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kib / 1024;
}
