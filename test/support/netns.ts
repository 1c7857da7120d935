/**
 * Two network namespaces joined by a veth pair, as a PLC link joins a charger and a car: raw
 * Ethernet (SLAC), IPv6 link-local (SDP multicast, V2GTP) between them. Needs root.
 */
import { spawnSync } from 'node:child_process';

export function ip(...args: string[]): { ok: boolean; out: string; error: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '', error: (r.stderr || r.error?.message || '').trim() };
}

export class VethPair {
  /** Names from a prefix and the pid, so that parallel runs do not collide (interface names ≤ 15 characters). */
  static named(nsPrefix: string, ifPrefix: string, pidOffset = 0): VethPair {
    const id = `${(process.pid + pidOffset) % 100000}`;
    return new VethPair(`${nsPrefix}-evse-${id}`, `${nsPrefix}-ev-${id}`, `${ifPrefix}${id}a`, `${ifPrefix}${id}b`);
  }

  constructor(
    /** The charger's namespace and its end of the pair. */
    readonly nsEvse: string,
    readonly nsEv: string,
    readonly ifEvse: string,
    readonly ifEv: string,
  ) {}

  /** Creates both namespaces with the pair up (loopback too), or returns why it cannot (after cleaning up). */
  create(): string | undefined {
    if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
    const steps = [
      ['netns', 'add', this.nsEvse],
      ['netns', 'add', this.nsEv],
      ['link', 'add', this.ifEvse, 'type', 'veth', 'peer', 'name', this.ifEv],
      ['link', 'set', this.ifEvse, 'netns', this.nsEvse],
      ['link', 'set', this.ifEv, 'netns', this.nsEv],
      ['-n', this.nsEvse, 'link', 'set', 'lo', 'up'],
      ['-n', this.nsEv, 'link', 'set', 'lo', 'up'],
      ['-n', this.nsEvse, 'link', 'set', this.ifEvse, 'up'],
      ['-n', this.nsEv, 'link', 'set', this.ifEv, 'up'],
    ];
    for (const step of steps) {
      const r = ip(...step);
      if (!r.ok) {
        this.destroy();
        return `cannot create network namespaces (ip ${step.join(' ')}: ${r.error})`;
      }
    }
    return undefined;
  }

  /** Removes the namespaces (which takes the pair with them) and the pair if it never moved into one. */
  destroy(): void {
    ip('netns', 'del', this.nsEvse);
    ip('netns', 'del', this.nsEv);
    ip('link', 'del', this.ifEvse);
  }

  /** Both ends' link-local addresses are usable (duplicate address detection is over). */
  async linkLocalReady(): Promise<void> {
    await Promise.all([linkLocalReady(this.nsEvse, this.ifEvse), linkLocalReady(this.nsEv, this.ifEv)]);
  }
}

async function linkLocalReady(ns: string, iface: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = ip('-n', ns, '-6', 'addr', 'show', 'dev', iface).out;
    if (/inet6 fe80::/.test(out) && !/tentative/.test(out)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${iface} in ${ns} has no usable link-local address`);
}
