import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { V2gtpDecoder, type V2gtpMessage } from './decoder.js';
import { DEFAULT_MAX_PAYLOAD_LENGTH, encodeMessage, PAYLOAD_TYPE } from './header.js';
import { ISO15118_2_CIPHERS } from './tls.js';

export interface V2gtpClientOptions {
  readonly host: string;
  readonly port: number;
  /** TLS 1.2 as an EVCC: the SECC certificate is checked against `ca` when given. */
  readonly tls?: { readonly ca?: Buffer | string; readonly rejectUnauthorized?: boolean; readonly ciphers?: string };
  readonly maxPayloadLength?: number;
  readonly connectTimeoutMs?: number;
}

export class V2gtpClientError extends Error {
  constructor(
    message: string,
    readonly code: 'connect' | 'timeout' | 'closed' | 'protocol',
  ) {
    super(message);
    this.name = 'V2gtpClientError';
  }
}

/**
 * The EVCC side of a V2GTP connection: request/response with a timeout, each message one write.
 * Used by the EV simulator and by tests.
 */
export class V2gtpClient {
  private readonly decoder: V2gtpDecoder;
  private readonly inbox: V2gtpMessage[] = [];
  private waiter: { resolve: (m: V2gtpMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private ended: Error | undefined;

  private constructor(readonly socket: Socket, maxPayloadLength: number) {
    this.decoder = new V2gtpDecoder({ accepted: new Set([PAYLOAD_TYPE.exi]), maxPayloadLength });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const output of this.decoder.push(chunk)) {
        if (output.kind === 'message') this.deliver(output.message);
        else if (output.kind === 'fatal') this.fail(new V2gtpClientError(output.error.message, 'protocol'));
      }
    });
    socket.on('close', () => this.fail(new V2gtpClientError('connection closed by the SECC', 'closed')));
    socket.on('error', (error) => this.fail(new V2gtpClientError(error.message, 'closed')));
  }

  static connect(options: V2gtpClientOptions): Promise<V2gtpClient> {
    const max = options.maxPayloadLength ?? DEFAULT_MAX_PAYLOAD_LENGTH;
    return new Promise((resolve, reject) => {
      let socket: Socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new V2gtpClientError(`no connection to [${options.host}]:${options.port} within ${options.connectTimeoutMs ?? 5000} ms`, 'timeout'));
      }, options.connectTimeoutMs ?? 5000);
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(new V2gtpClientError(`cannot connect to [${options.host}]:${options.port}: ${error.message}`, 'connect'));
      };
      const ready = () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new V2gtpClient(socket, max));
      };
      if (options.tls) {
        const tlsOptions: ConnectionOptions = {
          host: options.host,
          port: options.port,
          minVersion: 'TLSv1.2',
          maxVersion: 'TLSv1.2',
          ciphers: options.tls.ciphers ?? ISO15118_2_CIPHERS,
          rejectUnauthorized: options.tls.rejectUnauthorized ?? options.tls.ca !== undefined,
          // The SECC certificate names no host (ISO 15118-2 uses the EVSE ID as CN): check the chain only.
          checkServerIdentity: () => undefined,
          ...(options.tls.ca ? { ca: options.tls.ca } : {}),
        };
        socket = tlsConnect(tlsOptions, ready);
      } else {
        socket = tcpConnect({ host: options.host, port: options.port, noDelay: true }, ready);
      }
      socket.once('error', onError);
    });
  }

  get cipher(): string | undefined {
    return (this.socket as Socket & { getCipher?: () => { name: string } }).getCipher?.().name;
  }

  /** Send an EXI payload (one write) and wait for the next message. */
  async request(payload: Uint8Array, timeoutMs: number): Promise<V2gtpMessage> {
    this.send(payload);
    return this.receive(timeoutMs);
  }

  send(payload: Uint8Array, payloadType: number = PAYLOAD_TYPE.exi): void {
    if (this.ended) throw this.ended;
    this.socket.write(encodeMessage(payloadType, payload));
  }

  receive(timeoutMs: number): Promise<V2gtpMessage> {
    const next = this.inbox.shift();
    if (next) return Promise.resolve(next);
    if (this.ended) return Promise.reject(this.ended);
    if (this.waiter) return Promise.reject(new Error('V2gtpClient: one receive at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new V2gtpClientError(`no response within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private deliver(message: V2gtpMessage): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    } else {
      this.inbox.push(message);
    }
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.ended = error;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}
