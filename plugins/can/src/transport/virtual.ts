/**
 * An in-process CAN bus: every endpoint attached to a named bus receives the frames the others send,
 * asynchronously and in order, as nodes on a real bus would. `secc start --sim --control can` runs
 * the simulated power-supply controller on it inside the daemon; the tests use it for everything
 * the kernel's missing CAN support keeps off SocketCAN.
 */
import { checkFrame, type CanFrame, type CanTransport } from './types.js';

const buses = new Map<string, VirtualCanBus>();

export class VirtualCanBus {
  private readonly endpoints = new Set<VirtualCanEndpoint>();

  private constructor(readonly name: string) {}

  /** The bus of that name in this process (created on first use). */
  static named(name: string): VirtualCanBus {
    let bus = buses.get(name);
    if (!bus) {
      bus = new VirtualCanBus(name);
      buses.set(name, bus);
    }
    return bus;
  }

  /** A new node on this bus. */
  endpoint(label = 'node'): VirtualCanEndpoint {
    return new VirtualCanEndpoint(this, label);
  }

  /** @internal */
  attach(endpoint: VirtualCanEndpoint): void {
    this.endpoints.add(endpoint);
  }

  /** @internal */
  detach(endpoint: VirtualCanEndpoint): void {
    this.endpoints.delete(endpoint);
  }

  /** @internal Deliver to every other open endpoint after the current task, like a bus would. */
  transmit(from: VirtualCanEndpoint, frame: CanFrame): void {
    const copy: CanFrame = { id: frame.id, extended: frame.extended, data: Uint8Array.from(frame.data) };
    for (const endpoint of this.endpoints) if (endpoint !== from) queueMicrotask(() => endpoint.deliver(copy));
  }
}

export class VirtualCanEndpoint implements CanTransport {
  readonly kind = 'virtual' as const;
  private readonly handlers = new Set<(frame: CanFrame) => void>();
  private open_ = false;

  constructor(
    private readonly bus: VirtualCanBus,
    readonly label: string,
  ) {}

  get name(): string {
    return `virtual:${this.bus.name}`;
  }

  get iface(): string {
    return this.bus.name;
  }

  async open(): Promise<void> {
    this.open_ = true;
    this.bus.attach(this);
  }

  send(frame: CanFrame): void {
    checkFrame(frame);
    if (!this.open_) throw new Error(`virtual CAN endpoint ${this.label} on ${this.bus.name} is not open`);
    this.bus.transmit(this, frame);
  }

  onFrame(handler: (frame: CanFrame) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** @internal */
  deliver(frame: CanFrame): void {
    if (!this.open_) return;
    for (const handler of this.handlers) {
      try {
        handler(frame);
      } catch (error) {
        // A receiver's bug must not take the other nodes (or the process) down.
        process.emitWarning(`virtual CAN ${this.bus.name}: frame handler of ${this.label} threw: ${(error as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    this.open_ = false;
    this.bus.detach(this);
  }
}
