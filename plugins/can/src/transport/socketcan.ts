/**
 * SocketCAN through the `socketcan` package (a native addon). The bitrate is a property of the Linux
 * interface, not of the socket: with `setBitrate`, the interface is reconfigured with `ip link` when
 * its bitrate differs (needs CAP_NET_ADMIN; virtual interfaces such as vcan have none and are left alone).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { checkFrame, type CanFrame, type CanTransport } from './types.js';

const run = promisify(execFile);

/** Why SocketCAN cannot work on this machine, or undefined when the kernel has CAN support. */
export function socketCanUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `SocketCAN needs Linux (this is ${process.platform})`;
  const protocols = existsSync('/proc/net/protocols') ? readFileSync('/proc/net/protocols', 'utf8') : '';
  if (existsSync('/proc/net/can') || /^CAN/m.test(protocols)) return undefined;
  return 'the kernel has no CAN support (no /proc/net/can; modules can / can-raw not loaded or not built)';
}

export class SocketCanError extends Error {
  constructor(readonly iface: string, reason: string) {
    super(`SocketCAN ${iface}: ${reason}`);
    this.name = 'SocketCanError';
  }
}

interface RawMessage {
  id: number;
  ext?: boolean;
  rtr?: boolean;
  err?: boolean;
  data: Buffer;
}
interface RawChannel {
  addListener(event: 'onMessage', handler: (message: RawMessage) => void): void;
  addListener(event: 'onStopped', handler: () => void): void;
  start(): void;
  stop(): void;
  send(message: { id: number; ext: boolean; rtr: boolean; data: Buffer }): void;
}

export interface SocketCanOptions {
  readonly iface: string;
  readonly bitrate: number;
  /** Reconfigure the interface's bitrate with `ip link` when it differs (default true). */
  readonly setBitrate?: boolean;
}

/** The interface's configured bitrate, or undefined when it has none (vcan) or `ip` cannot tell. */
export async function currentBitrate(iface: string): Promise<number | undefined> {
  const { stdout } = await run('ip', ['-details', '-json', 'link', 'show', 'dev', iface]);
  const info = (JSON.parse(stdout) as Array<{ linkinfo?: { info_data?: { bittiming?: { bitrate?: number } } } }>)[0];
  return info?.linkinfo?.info_data?.bittiming?.bitrate;
}

export class SocketCanTransport implements CanTransport {
  readonly kind = 'socketcan' as const;
  private channel: RawChannel | undefined;
  private readonly handlers = new Set<(frame: CanFrame) => void>();

  constructor(private readonly options: SocketCanOptions) {}

  get name(): string {
    return `socketcan:${this.options.iface}`;
  }

  get iface(): string {
    return this.options.iface;
  }

  async open(): Promise<void> {
    const { iface, bitrate } = this.options;
    const unavailable = socketCanUnavailableReason();
    if (unavailable) throw new SocketCanError(iface, unavailable);
    if (this.options.setBitrate !== false) {
      let current: number | undefined;
      try {
        current = await currentBitrate(iface);
      } catch (error) {
        throw new SocketCanError(iface, `cannot read the interface (${(error as Error).message.split('\n')[0]})`);
      }
      if (current !== undefined && current !== bitrate) {
        try {
          await run('ip', ['link', 'set', 'dev', iface, 'down']);
          await run('ip', ['link', 'set', 'dev', iface, 'type', 'can', 'bitrate', String(bitrate)]);
          await run('ip', ['link', 'set', 'dev', iface, 'up']);
        } catch (error) {
          throw new SocketCanError(iface, `cannot set the bitrate to ${bitrate} bit/s (${(error as Error).message.split('\n')[0]})`);
        }
      }
    }
    // The addon is CommonJS and native; load it only when SocketCAN is really used.
    const socketcan = createRequire(import.meta.url)('socketcan') as { createRawChannel(iface: string, timestamps?: boolean): RawChannel };
    try {
      this.channel = socketcan.createRawChannel(iface, false);
    } catch (error) {
      throw new SocketCanError(iface, `cannot open a raw CAN socket (${(error as Error).message}); is the interface up?`);
    }
    this.channel.addListener('onMessage', (message) => {
      if (message.rtr || message.err) return;
      const frame: CanFrame = { id: message.id, extended: message.ext === true, data: new Uint8Array(message.data) };
      for (const handler of this.handlers) handler(frame);
    });
    this.channel.start();
  }

  send(frame: CanFrame): void {
    checkFrame(frame);
    if (!this.channel) throw new SocketCanError(this.options.iface, 'not open');
    this.channel.send({ id: frame.id, ext: frame.extended, rtr: false, data: Buffer.from(frame.data) });
  }

  onFrame(handler: (frame: CanFrame) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.channel?.stop();
    this.channel = undefined;
  }
}
