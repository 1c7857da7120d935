import { checkHeader, readHeader, V2GTP_HEADER_LENGTH, V2gtpHeaderError, type V2gtpHeader } from './header.js';

/** One complete, accepted message. */
export interface V2gtpMessage {
  readonly payloadType: number;
  readonly payload: Buffer;
}

/**
 * What the decoder found in the bytes pushed into it.
 * - message: a complete message with an accepted header;
 * - discarded: a message of a payload type this endpoint does not take, within the length limit;
 *   its payload was skipped and the stream stays in sync (the connection may stay open);
 * - fatal: the stream cannot be trusted any more (wrong version pattern, or a length beyond the
 *   limit that would have to be buffered or skipped); the connection has to be closed.
 */
export type V2gtpDecoderOutput =
  | { readonly kind: 'message'; readonly message: V2gtpMessage }
  | { readonly kind: 'discarded'; readonly error: V2gtpHeaderError }
  | { readonly kind: 'fatal'; readonly error: V2gtpHeaderError };

export interface V2gtpDecoderOptions {
  /** Payload types this endpoint accepts (e.g. only 0x8001 on a V2G TCP connection). */
  readonly accepted: ReadonlySet<number>;
  /** Largest payload accepted, in bytes. The decoder never holds more than this plus a header. */
  readonly maxPayloadLength: number;
}

/**
 * Incremental V2GTP stream decoder for TCP/TLS: handles headers and payloads split over any number
 * of segments and several messages merged into one segment. Memory is bounded: the payload buffer
 * is allocated once the header is checked, at most `maxPayloadLength` bytes.
 */
export class V2gtpDecoder {
  private readonly header = Buffer.alloc(V2GTP_HEADER_LENGTH);
  private headerFill = 0;
  private current: V2gtpHeader | undefined;
  private payload: Buffer | undefined;
  private payloadFill = 0;
  /** Bytes of a discarded message still to skip. */
  private skipping = 0;
  private failed: V2gtpHeaderError | undefined;

  constructor(private readonly options: V2gtpDecoderOptions) {}

  /** True while a message has begun but is not complete. */
  get partial(): boolean {
    return this.headerFill > 0 || this.current !== undefined || this.skipping > 0;
  }

  /** Bytes held right now (header bytes plus payload bytes received so far). */
  get buffered(): number {
    return this.headerFill + this.payloadFill;
  }

  /** The fatal error the stream ended with, if any. */
  get fatal(): V2gtpHeaderError | undefined {
    return this.failed;
  }

  push(chunk: Uint8Array): V2gtpDecoderOutput[] {
    const out: V2gtpDecoderOutput[] = [];
    if (this.failed) return out;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, chunk.length - offset);
        this.skipping -= n;
        offset += n;
        continue;
      }
      if (this.current === undefined) {
        const n = Math.min(V2GTP_HEADER_LENGTH - this.headerFill, chunk.length - offset);
        this.header.set(chunk.subarray(offset, offset + n), this.headerFill);
        this.headerFill += n;
        offset += n;
        if (this.headerFill < V2GTP_HEADER_LENGTH) break;
        this.headerFill = 0;
        const header = readHeader(this.header);
        try {
          checkHeader(header, this.options.accepted, this.options.maxPayloadLength);
        } catch (error) {
          const headerError = error as V2gtpHeaderError;
          if (headerError.problem === 'payload-type' && header.payloadLength <= this.options.maxPayloadLength) {
            this.skipping = header.payloadLength;
            out.push({ kind: 'discarded', error: headerError });
            continue;
          }
          // A wrong version pattern (framing lost), or a length beyond what we may buffer or skip.
          this.failed = headerError;
          out.push({ kind: 'fatal', error: headerError });
          return out;
        }
        if (header.payloadLength === 0) {
          out.push({ kind: 'message', message: { payloadType: header.payloadType, payload: Buffer.alloc(0) } });
          continue;
        }
        this.current = header;
        this.payload = Buffer.allocUnsafe(header.payloadLength);
        this.payloadFill = 0;
      }
      const payload = this.payload!;
      const n = Math.min(payload.length - this.payloadFill, chunk.length - offset);
      payload.set(chunk.subarray(offset, offset + n), this.payloadFill);
      this.payloadFill += n;
      offset += n;
      if (this.payloadFill === payload.length) {
        out.push({ kind: 'message', message: { payloadType: this.current.payloadType, payload } });
        this.current = undefined;
        this.payload = undefined;
        this.payloadFill = 0;
      }
    }
    return out;
  }
}
