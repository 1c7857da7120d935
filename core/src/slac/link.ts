/**
 * The transport SLAC runs over: one Ethernet segment seen from one station. Two implementations share
 * this interface: raw-link.ts (AF_PACKET on a real Linux interface) and memory-link.ts (simulation
 * and tests).
 */
export type FrameHandler = (frame: Buffer) => void;

export interface SlacLink {
  /** For logs: the interface name or the simulated station's name. */
  readonly name: string;
  /** This station's MAC address, lowercase and colon-separated. */
  readonly mac: string;
  /** Sends one Ethernet frame (destination MAC first, no FCS). Frames shorter than 60 bytes are padded. */
  send(frame: Uint8Array): void;
  /** Receives every frame of the HomePlug EtherType that reaches this station, except its own. */
  onFrame(handler: FrameHandler): () => void;
  /** Link-level errors after opening (e.g. the interface went away). */
  onError(handler: (error: Error) => void): () => void;
  close(): void;
  readonly closed: boolean;
}

export class SlacLinkError extends Error {
  constructor(
    message: string,
    readonly iface: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'SlacLinkError';
  }
}
