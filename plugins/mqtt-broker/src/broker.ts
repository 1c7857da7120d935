import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import mqttPacket from 'mqtt-packet';
import type { Logger } from '@opensecc/plugin-api';
import { inProcessLink } from './in-process-link.js';
import { coalesceWrites, DEFAULT_WRITE_COALESCE_MS } from './coalesce-writes.js';

// mqtt-packet pre-builds 65 536 two-byte Buffers (about 7 MiB of heap) on its first write, to save
// two byte writes per packet; a charging station has 128 MiB, so the bytes are built as needed.
mqttPacket.writeToStream.cacheNumbers = false;

/**
 * Looks at a client's PUBLISH before anyone receives it or the broker retains it: returns why it is
 * refused, or undefined to let it through.
 */
export type PublishGuard = (topic: string, payload: Buffer) => string | undefined;

/**
 * What a refused publish carries on: aedes lets authorizePublish rewrite the packet, and the
 * forward hook drops everything with this payload, so a refused write reaches nobody while its
 * publisher keeps the connection (an authorizePublish error would disconnect it).
 */
const REFUSED = Buffer.from('refused by the publish guard');

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /**
   * How long a subscriber may leave its socket full before it is disconnected. Until then every
   * message for it waits in memory, and aedes holds up delivery to all clients behind it.
   */
  readonly drainTimeoutMs?: number;
  /** A client gets at most one write per this many ms while the broker is busy (0: one per turn of the event loop). */
  readonly writeCoalesceMs?: number;
}

/** A station has little memory: a client that stops reading is dropped well before aedes' 60 s. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

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

/**
 * Keep aedes from losing retained messages. aedes numbers every message when it is published and
 * drops, per client, one that arrives after a higher-numbered one (its de-duplication for
 * overlapping subscriptions). Storing a retained message costs one asynchronous step that a
 * non-retained one skips, so a retained value followed in the same turn by an event (a state
 * change, then a trace or an error report) reached live subscribers out of order, and the
 * retained value was dropped (aedes issues #955, #994). The in-memory store is synchronous
 * underneath; handing aedes an already-settled result makes both kinds take the same steps.
 */
function storeRetainedInStep(aedes: Aedes, log: Logger): void {
  const persistence = (aedes as unknown as { persistence: { storeRetained(packet: { topic: string }): PromiseLike<void> } }).persistence;
  const store = persistence.storeRetained.bind(persistence);
  const stored: PromiseLike<void> = {
    // aedes calls .then(onStored, onError) on the result: answer at once, in the same step.
    then(onStored) {
      onStored?.(undefined);
      return stored as never;
    },
  };
  persistence.storeRetained = (packet) => {
    // The memory store has done its work when the call returns; a failure could only come later.
    store(packet).then(undefined, (error: unknown) => log.error({ err: error, topic: packet.topic }, 'embedded MQTT broker could not store a retained message'));
    return stored;
  };
}

/** An aedes broker on a TCP listener: in-memory, no persistence, no authentication (loopback only by default). */
export class EmbeddedBroker {
  private guard: PublishGuard | undefined;

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {
    aedes.authorizePublish = (client, packet, callback) => {
      // aedes' own default: clients may not publish on $SYS/.
      if (packet.topic.startsWith('$SYS/')) return callback(new Error('$SYS/ topic is reserved'));
      if (this.guard?.(packet.topic, packet.payload as Buffer) !== undefined) {
        packet.payload = REFUSED;
        packet.retain = false;
      }
      callback(null);
    };
    aedes.authorizeForward = (_client, packet) => (packet.payload === REFUSED ? null : packet);
  }

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

  /**
   * Publish as the broker itself, with no client connection and no packet encoding on the way
   * in: QoS 1 towards subscribers that asked for it. Resolves once the message is handed to them
   * (and, retained, stored).
   */
  publish(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false }, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Install the one guard over client publishes (replacing any other); returns its removal. */
  guardPublishes(guard: PublishGuard): () => void {
    this.guard = guard;
    return () => {
      if (this.guard === guard) this.guard = undefined;
    };
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  static async start(options: EmbeddedBrokerOptions, log: Logger): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker({ drainTimeout: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS });
    storeRetainedInStep(aedes, log);
    aedes.on('clientError', (client, error) => {
      if (error.message === 'drain timeout') log.warn({ client: client?.id, drainTimeoutMs: options.drainTimeoutMs }, 'MQTT client disconnected: it stopped reading');
      else log.debug({ client: client?.id, err: error.message }, 'MQTT client error');
    });
    aedes.on('connectionError', (client, error) => log.debug({ client: client?.id, err: error.message }, 'MQTT connection error'));
    const server = createServer((socket) => aedes.handle(coalesceWrites(socket, options.writeCoalesceMs ?? DEFAULT_WRITE_COALESCE_MS)));
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
