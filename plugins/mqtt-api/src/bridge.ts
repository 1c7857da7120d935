import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { connect, MqttClient, type IClientOptions } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { topicMatches, type Bus, type BusMessage, type Logger, type TopicDefinition, type Unsubscribe } from '@opensecc/plugin-api';
import { PayloadDecodeError, TopicCodec, excerpt } from './codec.js';
import type { MqttApiConfig } from './config.js';
import { EchoFilter } from './echo-filter.js';
import type { TopicRegistryView } from './registry-view.js';
import { MQTT_ERROR_TOPIC, ONLINE_TOPIC, type MqttApiError } from './topics/api.js';
import { tlsOptions } from './tls.js';

// mqtt-packet pre-builds 65 536 two-byte Buffers (about 7 MiB of heap) on its first write, to save
// two byte writes per packet; a charging station has 128 MiB, so the bytes are built as needed.
mqttPacket.writeToStream.cacheNumbers = false;

/** The stack's own namespace: anything published under it must be a registered topic. */
export const STACK_PREFIX = 'ci/';
/** Bus patterns whose registered subscribeable-only topics go out to MQTT. */
export const EXPORTED_BUS_PATTERNS = ['ci/#', 'firmware/#'] as const;

/** Where the bridge connects: a URL, and for the embedded broker a connection inside the process. */
export interface BrokerTarget {
  readonly url: string;
  /** When set, used instead of dialling `url` (which then only names the broker in logs and status). */
  readonly openConnection?: () => Duplex;
}

export interface BridgeStatus {
  readonly connected: boolean;
  readonly url: string;
  /** Failed connection attempts since the last successful one. */
  readonly failedAttempts: number;
}

/**
 * Maps the kernel bus to MQTT 1:1 (same topic names): customer writes on publishable topics are
 * decoded, validated against the registry and published on the bus; the bus values of
 * subscribeable-only topics are published to MQTT (QoS 1, retained as the registry says).
 *
 * Nothing on the bus waits for MQTT: when the broker is away, stack values are only kept on the bus
 * and the retained ones are republished on reconnect.
 */
export class MqttBridge {
  private client: MqttClient | undefined;
  private readonly codecs = new Map<string, { schema: unknown; codec: TopicCodec }>();
  private readonly echoes = new EchoFilter();
  private outbox: Array<[TopicDefinition, unknown]> = [];
  private busSubscriptions: Unsubscribe[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failedAttempts = 0;
  /** Connected and the state republished. */
  private ready = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly connectWaiters = new Set<() => void>();

  constructor(
    private readonly bus: Bus,
    private readonly registry: TopicRegistryView,
    private readonly log: Logger,
    private config: MqttApiConfig,
    private target: BrokerTarget,
  ) {}

  private get url(): string {
    return this.target.url;
  }

  status(): BridgeStatus {
    return { connected: this.client?.connected ?? false, url: this.url, failedAttempts: this.failedAttempts };
  }

  /**
   * Resolves once connected and the retained state is republished (acknowledged by the broker);
   * at once if already connected. Rejects when the signal aborts.
   */
  whenConnected(signal?: AbortSignal): Promise<void> {
    if (this.ready && this.client?.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        this.connectWaiters.delete(done);
        reject(signal?.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.connectWaiters.add(done);
    });
  }

  /** Throws MqttConfigError for unusable options (before touching the bus); connecting is asynchronous. */
  start(): void {
    this.client = this.createClient();
    for (const pattern of EXPORTED_BUS_PATTERNS) {
      this.busSubscriptions.push(this.bus.subscribe(pattern, (message) => this.onBusMessage(message)));
    }
  }

  /** Idempotent: every caller gets the same completion. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const unsubscribe of this.busSubscriptions) unsubscribe();
    this.busSubscriptions = [];
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (client.connected) {
      // Say goodbye explicitly (the last will covers only an unclean loss).
      // Bounded: a broker that stopped answering must not hold up the daemon's shutdown.
      // Waits for the broker to deliver it back (we subscribe ci/#), not only for its PUBACK: the
      // embedded broker acknowledges before it has passed the message on, and stops right after us.
      const delivered = new Promise<void>((resolve) => {
        const onMessage = (topic: string, payload: Buffer) => {
          if (topic !== ONLINE_TOPIC || payload.toString() !== 'false') return;
          client.off('message', onMessage);
          resolve();
        };
        client.on('message', onMessage);
      });
      const sent = this.send(client, ONLINE_TOPIC, Buffer.from('false'), true);
      await Promise.race([Promise.all([sent, delivered]), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => client.end(true, () => resolve()), 1000);
      client.end(false, () => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /** Apply a new config: drop the connection and connect with the new options. */
  async reconfigure(config: MqttApiConfig, target: BrokerTarget): Promise<void> {
    this.config = config;
    this.target = target;
    this.ready = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const old = this.client;
    this.client = undefined;
    if (old) await new Promise<void>((resolve) => old.end(true, () => resolve()));
    this.failedAttempts = 0;
    if (!this.stopped) this.client = this.createClient();
  }

  private clientOptions(): IClientOptions {
    const c = this.config;
    return {
      // Unique by default: a broker drops the older of two connections with the same id.
      clientId: c.clientId ?? `opensecc-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      username: c.username,
      password: c.password,
      keepalive: c.keepaliveSeconds,
      connectTimeout: c.connectTimeoutMs,
      clean: true,
      // Reconnects are ours (exponential back-off); mqtt.js would retry at a fixed period.
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: ONLINE_TOPIC, payload: Buffer.from('false'), qos: 1, retain: true },
      ...tlsOptions(c.tls),
    };
  }

  private createClient(): MqttClient {
    const open = this.target.openConnection;
    const client = open ? new MqttClient(() => open(), this.clientOptions()) : connect(this.url, this.clientOptions());
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload, packet) => this.onMqttMessage(topic, payload, packet.retain));
    client.on('error', (error) => {
      // The first failure of a streak is worth a warning; repeats while the broker is away, and
      // errors of a connection being closed on purpose, are not.
      const fields = { err: error.message, url: this.url, attempt: this.failedAttempts + 1 };
      if (this.failedAttempts === 0 && !this.stopped && client === this.client) this.log.warn(fields, 'MQTT connection error');
      else this.log.debug(fields, 'MQTT connection error');
    });
    client.on('close', () => this.onClose(client));
    return client;
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    this.log.info({ url: this.url, afterFailedAttempts: this.failedAttempts }, 'MQTT connected');
    this.failedAttempts = 0;
    this.echoes.clear();
    const topics = [`${STACK_PREFIX}#`, ...this.publishableOutsidePrefix()];
    client.subscribe(topics, { qos: 1 }, (error) => {
      if (error) this.log.error({ err: error.message, topics }, 'MQTT subscribe failed');
    });
    // Subscribed before publishing, so our republished values come back live (and are recognised
    // as echoes) while stale retained copies arrive flagged retained (and are ignored).
    const acks = [this.send(client, ONLINE_TOPIC, Buffer.from('true'), true)];
    for (const message of this.bus.snapshot('#')) {
      const definition = this.registry.get(message.topic);
      if (definition?.direction === 'subscribeable-only' && definition.retained) acks.push(this.publishValue(client, definition, message.value));
    }
    // Waiters learn of the connection once the broker holds the state, so a subscriber that
    // connects afterwards is sure to get it.
    void Promise.all(acks).then(() => {
      this.log.debug({ count: acks.length }, 'MQTT republished retained state');
      if (client !== this.client || !client.connected) return;
      this.ready = true;
      for (const resolve of [...this.connectWaiters]) resolve();
      this.connectWaiters.clear();
    });
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client || this.stopped) return;
    if (this.ready) this.log.warn({ url: this.url }, 'MQTT connection lost; reconnecting (charging is not affected)');
    this.ready = false;
    this.echoes.clear();
    if (this.reconnectTimer) return;
    const delay = Math.min(this.config.reconnectPeriodMs * 2 ** Math.min(this.failedAttempts, 20), this.config.maxReconnectPeriodMs);
    this.failedAttempts++;
    this.log.debug({ delayMs: delay, attempt: this.failedAttempts }, 'MQTT reconnect scheduled');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped && client === this.client) client.reconnect();
    }, delay);
  }

  /** Publishable topics outside `ci/` (the seed's `firmware/update/target/...`) need their own subscriptions. */
  private publishableOutsidePrefix(): string[] {
    return this.registry
      .list()
      .filter((d) => d.direction === 'publishable' && !d.topic.startsWith(STACK_PREFIX))
      .map((d) => d.topic);
  }

  private codecFor(definition: TopicDefinition): TopicCodec {
    const cached = this.codecs.get(definition.topic);
    // Re-derive when a plugin re-registered the topic with another schema.
    if (cached && cached.schema === definition.schema) return cached.codec;
    const codec = new TopicCodec(definition.topic, definition.schema);
    this.codecs.set(definition.topic, { schema: definition.schema, codec });
    return codec;
  }

  // ---- bus -> MQTT ----

  /**
   * Bus delivery is synchronous and may come from a timing-critical path (V2G), so the MQTT
   * encoding and socket write happen after it returns, in bus order.
   */
  private onBusMessage(message: BusMessage): void {
    const definition = this.registry.get(message.topic);
    // Publishable topics are the customer's own writes: never echoed back (loop prevention).
    if (definition?.direction !== 'subscribeable-only') return;
    this.outbox.push([definition, message.value]);
    if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
  }

  private flushOutbox(): void {
    const batch = this.outbox;
    this.outbox = [];
    const client = this.client;
    if (!client?.connected || this.stopped) {
      // Retained values are republished on reconnect; events while the broker is away are lost.
      const events = batch.filter(([definition]) => !definition.retained).length;
      if (events > 0) this.log.debug({ events }, 'MQTT offline: events not published');
      return;
    }
    for (const [definition, value] of batch) void this.publishValue(client, definition, value);
  }

  private publishValue(client: MqttClient, definition: TopicDefinition, value: unknown): Promise<void> {
    return this.send(client, definition.topic, this.codecFor(definition).encode(value), definition.retained);
  }

  /** Resolves when the broker acknowledged the publish (or it failed: logged, never thrown). */
  private send(client: MqttClient, topic: string, payload: Buffer, retain: boolean): Promise<void> {
    this.echoes.expect(topic, payload);
    return new Promise((resolve) =>
      client.publish(topic, payload, { qos: 1, retain }, (error) => {
        if (error) this.log.debug({ topic, err: error.message }, 'MQTT publish not acknowledged');
        resolve();
      }),
    );
  }

  // ---- MQTT -> bus ----

  private onMqttMessage(topic: string, payload: Buffer, retainFlag: boolean): void {
    try {
      this.applyIncoming(topic, payload, retainFlag);
    } catch (error) {
      // Whatever a client sends must not take the plugin down.
      this.refuse(topic, payload, `internal error: ${(error as Error).message}`);
    }
  }

  private applyIncoming(topic: string, payload: Buffer, retainFlag: boolean): void {
    if (this.echoes.consume(topic, payload) || this.stopped) return;
    const definition = this.registry.get(topic);
    if (!definition) {
      if (topic.startsWith(STACK_PREFIX)) this.refuse(topic, payload, `unknown topic: nothing under '${STACK_PREFIX}' has this name`);
      return;
    }
    if (definition.direction === 'subscribeable-only') {
      // A copy the broker kept from an earlier run is stale state, not a write; it is overwritten
      // by the republish on connect.
      if (retainFlag) return;
      this.refuse(topic, payload, 'topic is subscribeable-only: the stack writes it, applications may only read it');
      return;
    }
    if (this.config.readOnly.some((pattern) => topicMatches(pattern, topic))) {
      this.refuse(topic, payload, 'topic is controlled by another interface (plugins.mqtt-api.config.readOnly): read-only over MQTT');
      return;
    }
    let value: unknown;
    try {
      value = this.codecFor(definition).decode(payload);
    } catch (error) {
      if (error instanceof PayloadDecodeError) return this.refuse(topic, payload, error.reason);
      throw error;
    }
    const problem = this.registry.validate(topic, value);
    if (problem !== undefined) return this.refuse(topic, payload, problem);
    // A retained copy delivered on (re)subscribe that the bus already holds is not a new write.
    if (retainFlag && sameValue(this.bus.get(topic), value)) return;
    try {
      this.bus.publish(topic, value);
    } catch (error) {
      this.refuse(topic, payload, (error as Error).message);
    }
  }

  private refuse(topic: string, payload: Buffer, reason: string): void {
    const report: MqttApiError = { topic, reason, payload: excerpt(payload) };
    this.log.warn({ ...report }, 'MQTT publish refused');
    try {
      // Through the bus, so other interfaces (logs, reports) see API errors too; the bus sends it out.
      this.bus.publish(MQTT_ERROR_TOPIC, report, { retain: false });
    } catch (error) {
      this.log.error({ err: (error as Error).message }, `could not publish on ${MQTT_ERROR_TOPIC}`);
    }
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
