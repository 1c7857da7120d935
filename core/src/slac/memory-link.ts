/**
 * An in-memory Ethernet segment: every frame a station sends reaches every other attached station
 * (like a shared medium or a hub), asynchronously, padded to the Ethernet minimum like a real NIC would.
 * Used by the simulator and by tests; `tap` lets a test see all traffic.
 */
import { padFrame } from './codec.js';
import type { FrameHandler, SlacLink } from './link.js';
import { SlacLinkError } from './link.js';
import { normalizeMac } from './mac.js';

export class MemorySegment {
  readonly #stations = new Set<MemoryLink>();
  readonly #taps = new Set<(frame: Buffer, from: string) => void>();

  /** Attaches a station with the given MAC address. */
  attach(mac: string, name = `mem-${mac}`): MemoryLink {
    const link = new MemoryLink(this, normalizeMac(mac), name);
    this.#stations.add(link);
    return link;
  }

  /** Sees every frame on the segment (after padding), with the sending station's name. */
  tap(handler: (frame: Buffer, from: string) => void): () => void {
    this.#taps.add(handler);
    return () => this.#taps.delete(handler);
  }

  /** Puts a frame on the segment as if an outside station had sent it (replaying captures). */
  inject(frame: Uint8Array, from = 'inject'): void {
    this.transmit(undefined, padFrame(frame), from);
  }

  /** @internal */
  transmit(sender: MemoryLink | undefined, frame: Buffer, from: string): void {
    for (const tap of this.#taps) tap(frame, from);
    for (const station of this.#stations) {
      if (station === sender) continue;
      const copy = Buffer.from(frame);
      // Asynchronous like a real wire: a handler never runs inside the sender's send().
      setImmediate(() => station.deliver(copy));
    }
  }

  /** @internal */
  detach(link: MemoryLink): void {
    this.#stations.delete(link);
  }
}

export class MemoryLink implements SlacLink {
  readonly #segment: MemorySegment;
  readonly #handlers = new Set<FrameHandler>();
  readonly #errorHandlers = new Set<(error: Error) => void>();
  #closed = false;

  constructor(
    segment: MemorySegment,
    readonly mac: string,
    readonly name: string,
  ) {
    this.#segment = segment;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(frame: Uint8Array): void {
    if (this.#closed) throw new SlacLinkError(`cannot send on ${this.name}: the link is closed`, this.name, 'ERR_SOCKET_CLOSED');
    this.#segment.transmit(this, padFrame(frame), this.name);
  }

  onFrame(handler: FrameHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  onError(handler: (error: Error) => void): () => void {
    this.#errorHandlers.add(handler);
    return () => this.#errorHandlers.delete(handler);
  }

  /** @internal */
  deliver(frame: Buffer): void {
    if (this.#closed) return;
    for (const handler of this.#handlers) handler(frame);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers.clear();
    this.#segment.detach(this);
  }
}
