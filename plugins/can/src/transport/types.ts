/** One classic CAN frame. `id` is the arbitration id (29 bits when `extended`). */
export interface CanFrame {
  readonly id: number;
  readonly extended: boolean;
  readonly data: Uint8Array;
}

/**
 * Where frames go and come from: SocketCAN on a Linux interface, or the in-process virtual bus the
 * simulator and the tests use. A transport does not see its own frames (no loopback).
 */
export interface CanTransport {
  /** 'socketcan:can0', 'virtual:can0' — for logs, traces and ci/can/status. */
  readonly name: string;
  readonly kind: 'socketcan' | 'virtual';
  readonly iface: string;
  open(): Promise<void>;
  send(frame: CanFrame): void;
  onFrame(handler: (frame: CanFrame) => void): () => void;
  close(): Promise<void>;
}

/** A frame that cannot be put on a classic CAN bus (id too wide, more than 8 data bytes). */
export class CanFrameError extends Error {
  constructor(readonly frame: CanFrame, reason: string) {
    super(`invalid CAN frame id 0x${frame.id.toString(16)}: ${reason}`);
    this.name = 'CanFrameError';
  }
}

export function checkFrame(frame: CanFrame): void {
  const maxId = frame.extended ? 0x1fff_ffff : 0x7ff;
  if (!Number.isInteger(frame.id) || frame.id < 0 || frame.id > maxId) throw new CanFrameError(frame, `id outside 0..0x${maxId.toString(16)}`);
  if (frame.data.length > 8) throw new CanFrameError(frame, `${frame.data.length} data bytes (classic CAN carries at most 8)`);
}
