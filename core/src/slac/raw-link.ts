/**
 * SLAC over a real Linux network interface (the PLC modem's, or one end of a veth pair) through the
 * @opensecc/rawsock AF_PACKET addon. The addon is loaded on first use, so everything else in the SLAC
 * module works where it is not built.
 */
import { ETHERTYPE_HOMEPLUG } from './constants.js';
import { padFrame } from './codec.js';
import type { FrameHandler, SlacLink } from './link.js';
import { SlacLinkError } from './link.js';

interface RawSocketLike {
  readonly mac: string;
  readonly closed: boolean;
  send(frame: Uint8Array): number;
  on(event: 'frame', listener: (frame: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
  close(): void;
}

class RawLink implements SlacLink {
  readonly #socket: RawSocketLike;
  readonly #handlers = new Set<FrameHandler>();
  readonly #errorHandlers = new Set<(error: Error) => void>();

  constructor(
    readonly name: string,
    socket: RawSocketLike,
  ) {
    this.#socket = socket;
    socket.on('frame', (frame) => {
      for (const handler of this.#handlers) handler(frame);
    });
    socket.on('error', (error) => {
      const wrapped = new SlacLinkError(`raw socket on ${name}: ${error.message}`, name, error.code);
      if (this.#errorHandlers.size === 0) return; // nobody listening: the SLAC state machine's timers handle silence
      for (const handler of this.#errorHandlers) handler(wrapped);
    });
  }

  get mac(): string {
    return this.#socket.mac;
  }

  get closed(): boolean {
    return this.#socket.closed;
  }

  send(frame: Uint8Array): void {
    try {
      this.#socket.send(padFrame(frame));
    } catch (error) {
      const e = error as Error & { code?: string };
      throw new SlacLinkError(`cannot send on ${this.name}: ${e.message}`, this.name, e.code);
    }
  }

  onFrame(handler: FrameHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  onError(handler: (error: Error) => void): () => void {
    this.#errorHandlers.add(handler);
    return () => this.#errorHandlers.delete(handler);
  }

  close(): void {
    this.#handlers.clear();
    this.#socket.close();
  }
}

/**
 * Opens a raw HomePlug (EtherType 0x88E1) socket on a named interface.
 * Rejects with a SlacLinkError whose message says why, e.g.
 * "cannot open raw socket on eth9: No such device (ENODEV); …" or "… (EPERM); needs root or CAP_NET_RAW".
 */
export async function openRawLink(iface: string, options: { ethertype?: number } = {}): Promise<SlacLink> {
  let rawsock: typeof import('@opensecc/rawsock');
  try {
    rawsock = await import('@opensecc/rawsock');
  } catch (error) {
    throw new SlacLinkError(`cannot open raw socket on ${iface}: the @opensecc/rawsock addon cannot be loaded (${(error as Error).message})`, iface, 'ERR_RAWSOCK_NOT_BUILT');
  }
  try {
    const socket = rawsock.RawSocket.open(iface, options.ethertype ?? ETHERTYPE_HOMEPLUG);
    return new RawLink(iface, socket);
  } catch (error) {
    const e = error as Error & { code?: string };
    throw new SlacLinkError(e.message, iface, e.code);
  }
}
