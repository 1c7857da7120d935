import { EventEmitter } from 'node:events';

/** True when the native addon can be loaded (it is built and this is Linux). */
export declare function isAvailable(): boolean;

/**
 * A raw AF_PACKET socket bound to one interface and one EtherType.
 * Frames the host sent itself are not delivered.
 */
export declare class RawSocket extends EventEmitter {
  /**
   * Opens the socket. Throws an Error whose `code` is the errno name ('ENODEV', 'EPERM', ...) and whose
   * message names the interface and what is missing, e.g.
   * "cannot open raw socket on eth9: No such device (ENODEV); ...".
   */
  static open(ifname: string, ethertype: number): RawSocket;
  constructor(ifname: string, ethertype: number);
  readonly ifname: string;
  readonly ethertype: number;
  /** The interface's MAC address, lowercase, colon-separated. */
  readonly mac: string;
  readonly macBytes: Buffer;
  readonly ifindex: number;
  readonly closed: boolean;
  /** Sends one frame as given (destination MAC first, no FCS). Returns the number of bytes sent. */
  send(frame: Uint8Array): number;
  close(): void;
  on(event: 'frame', listener: (frame: Buffer) => void): this;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
  once(event: 'frame', listener: (frame: Buffer) => void): this;
  once(event: 'error', listener: (error: Error & { code?: string }) => void): this;
  off(event: 'frame' | 'error', listener: (...args: any[]) => void): this;
}
