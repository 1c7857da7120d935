import type { Socket } from 'node:net';
import type { Logger } from '@opensecc/plugin-api';
import { V2gtpDecoder, type V2gtpMessage } from './decoder.js';
import { encodeMessage } from './header.js';

/** Why a connection ended, for logs and the session layer. */
export type CloseReason =
  | { readonly kind: 'peer' }
  | { readonly kind: 'local'; readonly why: string }
  | { readonly kind: 'timeout'; readonly timer: string }
  | { readonly kind: 'protocol'; readonly why: string }
  | { readonly kind: 'error'; readonly error: Error };

export type RequestHandler = (message: V2gtpMessage, connection: V2gtpConnection) => void | Promise<void>;

export interface V2gtpConnectionOptions {
  readonly accepted: ReadonlySet<number>;
  readonly maxPayloadLength: number;
  readonly log: Logger;
  /** Requests that may wait while one is handled; more than that closes the connection (default 4). */
  readonly maxQueued?: number;
  /** Bytes the peer may leave unread in our send buffer before we give up on it (default 64 KiB). */
  readonly maxUnsent?: number;
}

let nextId = 1;

/**
 * One V2GTP connection (TCP or TLS): frames the byte stream with a bounded decoder, hands complete
 * messages to one handler strictly one after the other, writes each message with a single write,
 * and owns one deadline timer the session layer re-arms (communication setup, sequence, ongoing).
 */
export class V2gtpConnection {
  readonly id = nextId++;
  readonly remote: string;
  readonly secure: boolean;
  private readonly decoder: V2gtpDecoder;
  private readonly log: Logger;
  private readonly maxQueued: number;
  private readonly maxUnsent: number;
  private handler: RequestHandler | undefined;
  private readonly queue: V2gtpMessage[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private closedWith: CloseReason | undefined;
  private readonly closeListeners = new Set<(reason: CloseReason) => void>();

  constructor(
    private readonly socket: Socket,
    options: V2gtpConnectionOptions,
    secure = false,
  ) {
    this.secure = secure;
    this.remote = `[${socket.remoteAddress}]:${socket.remotePort}`;
    this.decoder = new V2gtpDecoder({ accepted: options.accepted, maxPayloadLength: options.maxPayloadLength });
    this.log = options.log.child({ conn: this.id, remote: this.remote });
    this.maxQueued = options.maxQueued ?? 4;
    this.maxUnsent = options.maxUnsent ?? 65536;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.finish({ kind: 'peer' }));
    socket.on('close', () => this.finish({ kind: 'peer' }));
    socket.on('error', (error) => this.finish({ kind: 'error', error }));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  get closeReason(): CloseReason | undefined {
    return this.closedWith;
  }

  /** Bytes of an incomplete message held right now. */
  get buffered(): number {
    return this.decoder.buffered;
  }

  /** Set the request handler; messages that arrived before are delivered now. */
  onRequest(handler: RequestHandler): void {
    this.handler = handler;
    this.drain();
  }

  onClose(listener: (reason: CloseReason) => void): () => void {
    if (this.closedWith) {
      const reason = this.closedWith;
      queueMicrotask(() => listener(reason));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => void this.closeListeners.delete(listener);
  }

  /** Send one message with one write. Returns false when the connection is closed. */
  send(payloadType: number, payload: Uint8Array): boolean {
    if (this.closedWith) return false;
    if (this.socket.writableLength > this.maxUnsent) {
      this.close({ kind: 'protocol', why: `peer does not read (${this.socket.writableLength} bytes unsent)` });
      return false;
    }
    this.socket.write(encodeMessage(payloadType, payload));
    return true;
  }

  /**
   * Arm the one deadline of this connection (replacing the previous one). When it expires the
   * connection closes with reason 'timeout' naming the timer.
   */
  arm(timer: string, ms: number): void {
    this.disarm();
    if (this.closedWith) return;
    this.timer = setTimeout(() => {
      this.log.warn({ timer, ms }, `${timer} expired`);
      this.close({ kind: 'timeout', timer });
    }, ms);
    this.timer.unref?.();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Close after what was written has been flushed. */
  close(reason: CloseReason = { kind: 'local', why: 'closed' }): void {
    if (this.closedWith) return;
    this.socket.end();
    // A peer that never reads must not keep the socket: destroy shortly after ending.
    setTimeout(() => this.socket.destroy(), 1000).unref?.();
    this.finish(reason);
  }

  private onData(chunk: Buffer): void {
    if (this.closedWith) return;
    for (const output of this.decoder.push(chunk)) {
      if (output.kind === 'discarded') {
        this.log.warn({ reason: output.error.message }, 'V2GTP message discarded');
      } else if (output.kind === 'fatal') {
        this.log.warn({ reason: output.error.message }, 'V2GTP header invalid: closing the connection');
        this.close({ kind: 'protocol', why: output.error.message });
        this.socket.destroy();
        return;
      } else {
        if (this.queue.length >= this.maxQueued) {
          this.log.warn({ queued: this.queue.length }, 'peer sends requests without waiting for responses: closing');
          this.close({ kind: 'protocol', why: 'too many requests queued' });
          return;
        }
        this.queue.push(output.message);
      }
    }
    this.drain();
  }

  private drain(): void {
    if (this.busy || !this.handler) return;
    const message = this.queue.shift();
    if (!message) return;
    this.busy = true;
    let result: void | Promise<void>;
    try {
      result = this.handler(message, this);
    } catch (error) {
      this.onHandlerError(error);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(
        () => this.afterHandled(),
        (error) => this.onHandlerError(error),
      );
    } else {
      this.afterHandled();
    }
  }

  private afterHandled(): void {
    this.busy = false;
    if (!this.closedWith) this.drain();
  }

  private onHandlerError(error: unknown): void {
    this.busy = false;
    this.log.error({ err: error }, 'request handler failed: closing the connection');
    this.close({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) });
  }

  private finish(reason: CloseReason): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.disarm();
    this.queue.length = 0;
    if (reason.kind === 'peer' || reason.kind === 'error') this.socket.destroy();
    this.log.info({ reason: describeClose(reason) }, 'V2G connection closed');
    for (const listener of [...this.closeListeners]) {
      try {
        listener(reason);
      } catch (error) {
        this.log.error({ err: error }, 'close listener failed');
      }
    }
    this.closeListeners.clear();
  }
}

export function describeClose(reason: CloseReason): string {
  switch (reason.kind) {
    case 'peer':
      return 'closed by the peer';
    case 'local':
      return reason.why;
    case 'timeout':
      return `${reason.timer} expired`;
    case 'protocol':
      return `protocol violation: ${reason.why}`;
    case 'error':
      return `socket error: ${reason.error.message}`;
  }
}
