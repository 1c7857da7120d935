/**
 * A private network namespace joined to the test's namespace by a veth pair, for a daemon that must
 * not meet the other tests' daemons: every daemon answers SDP on [::1]:15118 and every simulated EV
 * asks there, so two daemons on one host find each other's EVs. Inside, the daemon has its own
 * loopback; the test reaches it (MQTT) over the veth pair.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));

export const NETNS_SKIP: string | false = process.getuid?.() !== 0 ? 'needs root (a network namespace for the daemon)' : IP ? false : 'needs iproute2 (ip)';

export interface Netns {
  readonly name: string;
  /** The daemon's address inside the namespace, reachable from the test. */
  readonly address: string;
  /** argv that runs a command inside the namespace. */
  exec(argv: readonly string[]): [command: string, args: string[]];
  remove(): void;
}

export function createNetns(): Netns {
  if (!IP) throw new Error('iproute2 is not installed');
  const ip = (...args: string[]) => execFileSync(IP, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const id = process.pid;
  const name = `secc-e2e-${id}`;
  const outside = `se${id}h`.slice(0, 15);
  const inside = `se${id}n`.slice(0, 15);
  // A /30 of 10.198.0.0/16 picked by the pid, so parallel runs do not share addresses.
  const block = (id % 16384) * 4;
  const net = `10.198.${block >> 8}.${block & 255}`.split('.').map(Number);
  const host = `${net[0]}.${net[1]}.${net[2]}.${net[3]! + 1}`;
  const address = `${net[0]}.${net[1]}.${net[2]}.${net[3]! + 2}`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${host}/30`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('-n', name, 'addr', 'add', `${address}/30`, 'dev', inside);
    ip('-n', name, 'link', 'set', inside, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (error) {
    ip('netns', 'del', name);
    throw error;
  }
  return {
    name,
    address,
    exec: (argv) => [IP, ['netns', 'exec', name, ...argv]],
    remove() {
      try {
        ip('netns', 'del', name); // takes the veth pair with it
      } catch {
        // already gone
      }
    },
  };
}
