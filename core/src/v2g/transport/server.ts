import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Logger } from '@opensecc/plugin-api';
import { V2gtpConnection } from './connection.js';
import { DEFAULT_MAX_PAYLOAD_LENGTH, PAYLOAD_TYPE } from './header.js';

/** ISO 15118-2 [V2G2-xxx] / DIN 70121: the SECC's TCP port lies in the dynamic range. */
export const DYNAMIC_PORT_MIN = 49152;
export const DYNAMIC_PORT_MAX = 65535;

export interface V2gtpServerOptions {
  /** Address to listen on: the PLC interface's link-local address with scope (`fe80::1%eth1`), or `::1` in tests. */
  readonly host: string;
  /** A fixed port, or 'auto' for a random free port of the dynamic range (default). 0 lets the OS pick. */
  readonly port?: number | 'auto';
  /** TLS 1.2 server options (see tls.ts); plain TCP without. */
  readonly tls?: SecureContextOptions;
  /** Connections served at the same time; one more is closed at once (default 1: one session per charging point). */
  readonly maxConnections?: number;
  readonly maxPayloadLength?: number;
  /** TLS handshake must finish within this (default 5000 ms). */
  readonly handshakeTimeoutMs?: number;
  /** How long to wait for the listen address to become usable (default 10 s). */
  readonly addressWaitMs?: number;
  readonly log: Logger;
  readonly onConnection: (connection: V2gtpConnection) => void;
}

/** The SECC's V2G listener: TCP or TLS, one V2gtpConnection per accepted socket. */
export class V2gtpServer {
  private server: Server | undefined;
  private readonly connections = new Set<V2gtpConnection>();
  private readonly log: Logger;
  private boundPort: number | undefined;
  private rejected = 0;

  constructor(private readonly options: V2gtpServerOptions) {
    this.log = options.log.child({ transport: options.tls ? 'tls' : 'tcp' });
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error('V2gtpServer: not listening');
    return this.boundPort;
  }

  get secure(): boolean {
    return this.options.tls !== undefined;
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  /** Connections refused because the limit was reached. */
  get rejectedConnections(): number {
    return this.rejected;
  }

  async listen(): Promise<number> {
    const wanted = this.options.port ?? 'auto';
    const attempts = wanted === 'auto' ? 20 : 1;
    let lastError: unknown;
    const addressDeadline = Date.now() + (this.options.addressWaitMs ?? 10_000);
    for (let i = 0; i < attempts; i++) {
      const port = wanted === 'auto' ? DYNAMIC_PORT_MIN + Math.floor(Math.random() * (DYNAMIC_PORT_MAX - DYNAMIC_PORT_MIN + 1)) : wanted;
      const server = this.createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: this.options.host, port, ipv6Only: this.options.host.includes(':') }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.server = server;
        const address = server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : port;
        server.on('error', (error) => this.log.error({ err: error }, 'V2G server error'));
        this.log.info({ host: this.options.host, port: this.boundPort }, 'V2G server listening');
        return this.boundPort;
      } catch (error) {
        lastError = error;
        server.close();
        const code = (error as NodeJS.ErrnoException).code;
        // A link-local address is unusable while duplicate address detection runs (~1-2 s after
        // the interface comes up): wait for it instead of failing the daemon.
        if (code === 'EADDRNOTAVAIL' && Date.now() < addressDeadline) {
          this.log.info({ host: this.options.host }, 'address not usable yet (duplicate address detection?): retrying');
          await new Promise((r) => setTimeout(r, 200));
          i--;
          continue;
        }
        if (code !== 'EADDRINUSE') break;
      }
    }
    throw new Error(`cannot listen for V2G on [${this.options.host}]:${String(wanted)}: ${(lastError as Error).message}`);
  }

  async close(): Promise<void> {
    for (const connection of [...this.connections]) connection.close({ kind: 'local', why: 'server stopping' });
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private createServer(): Server {
    const tls = this.options.tls;
    if (!tls) return createTcpServer({ noDelay: true }, (socket) => this.accept(socket, false));
    const server = createTlsServer({ ...tls, handshakeTimeout: this.options.handshakeTimeoutMs ?? 5000 }, (socket: TLSSocket) => this.accept(socket, true));
    server.on('tlsClientError', (error, socket) => {
      this.log.warn({ err: error, remote: socket.remoteAddress }, 'TLS handshake failed');
      socket.destroy();
    });
    return server;
  }

  private accept(socket: Socket, secure: boolean): void {
    const limit = this.options.maxConnections ?? 1;
    if (this.connections.size >= limit) {
      this.rejected++;
      this.log.warn({ remote: `[${socket.remoteAddress}]:${socket.remotePort}`, active: this.connections.size }, 'second V2G connection refused: a session is in progress');
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const connection = new V2gtpConnection(
      socket,
      {
        accepted: new Set([PAYLOAD_TYPE.exi]),
        maxPayloadLength: this.options.maxPayloadLength ?? DEFAULT_MAX_PAYLOAD_LENGTH,
        log: this.log,
      },
      secure,
    );
    this.connections.add(connection);
    connection.onClose(() => this.connections.delete(connection));
    this.log.info({ conn: connection.id, remote: connection.remote, secure }, 'V2G connection accepted');
    try {
      this.options.onConnection(connection);
    } catch (error) {
      this.log.error({ err: error }, 'connection handler failed');
      connection.close({ kind: 'error', error: error as Error });
    }
  }
}
