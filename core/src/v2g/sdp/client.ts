import { createSocket } from 'node:dgram';
import { decodeSdpResponse, encodeSdpRequest, SDP_MULTICAST_ADDRESS, SDP_PORT, type SdpRequest, type SdpResponse } from './messages.js';

export interface SdpDiscoverOptions {
  /** Interface to send the multicast on (EV side of the PLC link); needed for ff02::1. */
  readonly iface?: string;
  /** Where the request goes (default ff02::1 on `iface`); a unicast address in tests and simulations. */
  readonly target?: string;
  readonly port?: number;
  readonly request: SdpRequest;
  /** Wait per request (ISO 15118-2 TT_SDP_Timeout... EVCC: 250 ms). */
  readonly timeoutMs?: number;
  /** Requests sent before giving up (ISO 15118-2 / DIN: 50). */
  readonly attempts?: number;
}

export class SdpDiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdpDiscoveryError';
  }
}

/** The EVCC side of SDP: send requests until a valid response arrives; malformed answers are skipped. */
export async function discoverSecc(options: SdpDiscoverOptions): Promise<SdpResponse & { scope?: string }> {
  const socket = createSocket({ type: 'udp6' });
  const attempts = options.attempts ?? 50;
  const timeoutMs = options.timeoutMs ?? 250;
  let target = options.target ?? SDP_MULTICAST_ADDRESS;
  if (options.iface && !target.includes('%') && (target.startsWith('ff02:') || target.toLowerCase().startsWith('fe80:'))) target = `${target}%${options.iface}`;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: options.target === '::1' ? '::1' : '::' }, () => resolve());
    });
    if (options.iface && target.startsWith('ff02:')) socket.setMulticastInterface(`::%${options.iface}`);
    const request = encodeSdpRequest(options.request);
    for (let attempt = 0; attempt < attempts; attempt++) {
      const answer = await new Promise<(SdpResponse & { scope?: string }) | undefined>((resolve) => {
        const timer = setTimeout(() => {
          socket.off('message', onMessage);
          resolve(undefined);
        }, timeoutMs);
        const onMessage = (datagram: Buffer, remote: { address: string }) => {
          try {
            const response = decodeSdpResponse(datagram);
            clearTimeout(timer);
            socket.off('message', onMessage);
            const scope = remote.address.split('%')[1] ?? options.iface;
            resolve(scope ? { ...response, scope } : response);
          } catch {
            // not an SDP response: keep waiting
          }
        };
        socket.on('message', onMessage);
        socket.send(request, options.port ?? SDP_PORT, target);
      });
      if (answer) return answer;
    }
    throw new SdpDiscoveryError(`no SDP response from ${target} after ${attempts} requests`);
  } finally {
    socket.close();
  }
}
