import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import mqttPacket from 'mqtt-packet';
import type { Logger } from '@opensecc/plugin-api';
import { inProcessLink } from './in-process-link.js';

// mqtt-packet pre-builds 65 536 two-byte Buffers (about 7 MiB of heap) on its first write, to save
// two byte writes per packet; a charging station has 128 MiB, so the bytes are built as needed.
mqttPacket.writeToStream.cacheNumbers = false;

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

/** The listening address could not be taken: says which and what to do. */
export class BrokerListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(
      code === 'EADDRINUSE'
        ? `embedded MQTT broker: ${host}:${port} is already in use (another broker?). Disable the embedded broker (plugins.mqtt-broker.config.enabled = false) to use that one, or choose another port.`
        : `embedded MQTT broker: cannot listen on ${host}:${port}: ${detail}`,
    );
    this.name = 'BrokerListenError';
  }
}

/** An aedes broker on a TCP listener: in-memory, no persistence, no authentication (loopback only by default). */
export class EmbeddedBroker {
  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `mqtt://${host}:${this.port}`;
  }

  /** A client connection inside this process (no socket): the stream the client reads and writes. */
  openConnection(): Duplex {
    const [clientSide, brokerSide] = inProcessLink();
    this.aedes.handle(brokerSide);
    return clientSide;
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  static async start(options: EmbeddedBrokerOptions, log: Logger): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker();
    aedes.on('clientError', (client, error) => log.debug({ client: client?.id, err: error.message }, 'MQTT client error'));
    aedes.on('connectionError', (client, error) => log.debug({ client: client?.id, err: error.message }, 'MQTT connection error'));
    const server = createServer((socket) => aedes.handle(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      const e = error as NodeJS.ErrnoException;
      throw new BrokerListenError(options.host, options.port, e.code, e.message);
    }
    server.on('error', (error) => log.error({ err: error.message }, 'embedded MQTT broker listener error'));
    const port = (server.address() as AddressInfo).port;
    log.info({ host: options.host, port }, 'embedded MQTT broker listening');
    return new EmbeddedBroker(aedes, server, options.host, port);
  }

  /** Stop listening, drop every client, forget retained messages. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // aedes.close() ends its clients, which lets server.close() finish.
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await closed;
  }
}
