import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from '@opensecc/plugin-api';
import { decodeSdpRequest, encodeSdpResponse, SDP_MULTICAST_ADDRESS, SDP_PORT, SdpMessageError, type SdpRequest, type SdpResponse, type SdpSecurity } from './messages.js';

/** The V2G endpoints the SECC offers right now. */
export interface SdpOffer {
  /** The SECC's IPv6 address for the EV (link-local on the PLC interface), without scope. */
  readonly address: string;
  /** Port of the plain TCP server, if one runs. */
  readonly tcpPort?: number;
  /** Port of the TLS server, if one runs. */
  readonly tlsPort?: number;
}

export interface SdpServerOptions {
  /** The PLC interface: multicast membership and source filtering. Without it (tests) no multicast is joined. */
  readonly iface?: string;
  /** Local address to bind (default '::', which receives the ff02::1 multicast). */
  readonly bindAddress?: string;
  readonly port?: number;
  /** What to announce; undefined while the V2G server is not ready (requests are then ignored). */
  readonly offer: () => SdpOffer | undefined;
  readonly log: Logger;
}

/**
 * Choose the answer: the security the EV asked for when the SECC offers it, else what the SECC has
 * (ISO 15118-2 [V2G2-xxx]: the SECC answers with the security it supports; the EV decides).
 */
export function answerFor(request: SdpRequest, offer: SdpOffer): SdpResponse | undefined {
  const pick = (security: SdpSecurity): SdpResponse | undefined => {
    const port = security === 'tls' ? offer.tlsPort : offer.tcpPort;
    return port === undefined ? undefined : { address: offer.address, port, security, transport: 'tcp' };
  };
  if (request.transport !== 'tcp') return undefined;
  return pick(request.security) ?? pick(request.security === 'tls' ? 'none' : 'tls');
}

/** The link-local IPv6 address of an interface, or undefined. */
export function linkLocalAddress(iface: string): string | undefined {
  const entry = networkInterfaces()[iface]?.find((a) => a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'));
  return entry?.address.split('%')[0];
}

/**
 * SDP server on UDP port 15118. Answers valid requests from the same socket (so from port 15118:
 * some EVs drop answers from other ports), ignores malformed ones with a log line.
 */
export class SdpServer {
  private socket: Socket | undefined;
  private readonly log: Logger;
  private answered = 0;
  private ignored = 0;

  constructor(private readonly options: SdpServerOptions) {
    this.log = options.log.child({ module: 'sdp' });
  }

  /** The UDP port bound (15118 unless the options moved it; tests use 0 for a free one). */
  get port(): number {
    if (!this.socket) throw new Error('SdpServer: not started');
    return this.socket.address().port;
  }

  get stats(): { answered: number; ignored: number } {
    return { answered: this.answered, ignored: this.ignored };
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp6', reuseAddr: true });
    const address = this.options.bindAddress ?? '::';
    const port = this.options.port ?? SDP_PORT;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port, exclusive: false }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (this.options.iface) {
      try {
        socket.addMembership(SDP_MULTICAST_ADDRESS, `::%${this.options.iface}`);
      } catch (error) {
        // All-nodes membership exists at kernel level anyway; a failure here is not fatal.
        this.log.debug({ err: error }, 'joining ff02::1 failed (already a member)');
      }
    }
    socket.on('message', (datagram, remote) => this.onDatagram(datagram, remote));
    socket.on('error', (error) => this.log.error({ err: error }, 'SDP socket error'));
    this.socket = socket;
    this.log.info({ address, port, iface: this.options.iface }, 'SDP server listening');
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private onDatagram(datagram: Buffer, remote: RemoteInfo): void {
    const from = `[${remote.address}]:${remote.port}`;
    const scope = remote.address.split('%')[1];
    if (this.options.iface && scope !== undefined && scope !== this.options.iface) {
      this.ignored++;
      this.log.debug({ from }, 'SDP request from another interface ignored');
      return;
    }
    let request: SdpRequest;
    try {
      request = decodeSdpRequest(datagram);
    } catch (error) {
      this.ignored++;
      const reason = error instanceof SdpMessageError ? error.message : String(error);
      this.log.warn({ from, reason, bytes: datagram.subarray(0, 32).toString('hex') }, 'malformed SDP request ignored');
      return;
    }
    const offer = this.options.offer();
    const response = offer && answerFor(request, offer);
    if (!response) {
      this.ignored++;
      this.log.warn({ from, request, ready: offer !== undefined }, 'SDP request not answered (nothing to offer for it)');
      return;
    }
    const target = remote.address.includes('%') || !this.options.iface || !remote.address.toLowerCase().startsWith('fe80:') ? remote.address : `${remote.address}%${this.options.iface}`;
    this.socket?.send(encodeSdpResponse(response), remote.port, target, (error) => {
      if (error) this.log.warn({ err: error, to: from }, 'SDP response not sent');
    });
    this.answered++;
    this.log.info({ from, request, response }, 'SDP request answered');
  }
}
