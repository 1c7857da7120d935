import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { BusValidationError, topicMatches, type Bus, type BusMessage, type Logger, type TopicDefinition, type Unsubscribe } from '@opensecc/plugin-api';
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

/** One message per traced frame (V2G, SLAC, CAN): not retained, under ci/trace/. */
function isFrameTrace(definition: TopicDefinition): boolean {
  return !definition.retained && definition.topic.startsWith('ci/trace/');
}

/** Where the bridge connects: a URL, and for the embedded broker direct access inside the process. */
export interface BrokerTarget {
  readonly url: string;
  /** When set, used instead of dialling `url` (which then only names the broker in logs and status). */
  readonly embedded?: EmbeddedBrokerAccess;
}

/**
 * The embedded broker, reached without an MQTT client: the bridge publishes as the broker and
 * judges client writes before the broker passes them on. Nothing is encoded into packets and
 * parsed again inside the process, and the bridge's own publishes never come back to it.
 */
export interface EmbeddedBrokerAccess {
  publish(topic: string, payload: Buffer, retain: boolean): Promise<void>;
  /** `guard` returns why a client's publish is refused (it then reaches nobody), or undefined. */
  guardPublishes(guard: (topic: string, payload: Buffer) => string | undefined): () => void;
}

type Publish = (topic: string, payload: Buffer, retain: boolean) => Promise<void>;

/** What to do with a client's write. */
type Verdict = { readonly kind: 'apply'; readonly value: unknown } | { readonly kind: 'refuse'; readonly reason: string } | { readonly kind: 'ignore' };

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
  private embedded: EmbeddedBrokerAccess | undefined;
  private removeGuard: (() => void) | undefined;
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
    return { connected: this.connected, url: this.url, failedAttempts: this.failedAttempts };
  }

  private get connected(): boolean {
    return this.embedded !== undefined || (this.client?.connected ?? false);
  }

  /**
   * Resolves once connected and the retained state is republished (acknowledged by the broker);
   * at once if already connected. Rejects when the signal aborts.
   */
  whenConnected(signal?: AbortSignal): Promise<void> {
    if (this.ready && this.connected) return Promise.resolve();
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
    this.attach();
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
    if (this.embedded) return this.detachEmbedded();
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
      const sent = this.clientPublisher(client)(ONLINE_TOPIC, Buffer.from('false'), true);
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
    if (this.embedded) await this.detachEmbedded();
    const old = this.client;
    this.client = undefined;
    if (old) await new Promise<void>((resolve) => old.end(true, () => resolve()));
    this.failedAttempts = 0;
    if (!this.stopped) this.attach();
  }

  private attach(): void {
    if (this.target.embedded) this.attachEmbedded(this.target.embedded);
    else this.client = this.createClient();
  }

  private attachEmbedded(embedded: EmbeddedBrokerAccess): void {
    this.embedded = embedded;
    this.removeGuard = embedded.guardPublishes((topic, payload) => this.inspectWrite(topic, payload));
    this.log.info({ url: this.url }, 'MQTT API on the embedded broker (in process)');
    void this.republish(this.embeddedPublisher(embedded)).then(() => {
      if (this.embedded === embedded && !this.stopped) this.markReady();
    });
  }

  /** Say offline (retained), bounded so that a stuck broker cannot hold up a stop. */
  private async detachEmbedded(): Promise<void> {
    const embedded = this.embedded!;
    this.embedded = undefined;
    this.ready = false;
    this.removeGuard?.();
    this.removeGuard = undefined;
    const sent = this.embeddedPublisher(embedded)(ONLINE_TOPIC, Buffer.from('false'), true);
    await Promise.race([sent, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }

  private embeddedPublisher(embedded: EmbeddedBrokerAccess): Publish {
    return (topic, payload, retain) =>
      embedded.publish(topic, payload, retain).catch((error: Error) => this.log.debug({ topic, err: error.message }, 'MQTT publish failed'));
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
    const client = connect(this.url, this.clientOptions());
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
    void this.republish(this.clientPublisher(client)).then(() => {
      if (client === this.client && client.connected) this.markReady();
    });
  }

  /** Online, and every retained value the bus holds; resolves when the broker has them all. */
  private republish(publish: Publish): Promise<void> {
    const acks = [publish(ONLINE_TOPIC, Buffer.from('true'), true)];
    for (const message of this.bus.snapshot('#')) {
      const definition = this.registry.get(message.topic);
      if (definition?.direction === 'subscribeable-only' && definition.retained) acks.push(this.publishValue(publish, definition, message.value));
    }
    return Promise.all(acks).then(() => this.log.debug({ count: acks.length }, 'MQTT republished retained state'));
  }

  /** Waiters learn of the connection once the broker holds the state, so a subscriber that connects afterwards is sure to get it. */
  private markReady(): void {
    this.ready = true;
    for (const resolve of [...this.connectWaiters]) resolve();
    this.connectWaiters.clear();
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
    if (!this.config.traces && isFrameTrace(definition)) return;
    this.outbox.push([definition, message.value]);
    if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
  }

  private flushOutbox(): void {
    const batch = this.outbox;
    this.outbox = [];
    const publish = this.publisher();
    if (!publish || this.stopped) {
      // Retained values are republished on reconnect; events while the broker is away are lost.
      const events = batch.filter(([definition]) => !definition.retained).length;
      if (events > 0) this.log.debug({ events }, 'MQTT offline: events not published');
      return;
    }
    for (const [definition, value] of batch) void this.publishValue(publish, definition, value);
  }

  /** How to publish right now; undefined while the external broker is away. */
  private publisher(): Publish | undefined {
    if (this.embedded) return this.embeddedPublisher(this.embedded);
    const client = this.client;
    return client?.connected ? this.clientPublisher(client) : undefined;
  }

  private publishValue(publish: Publish, definition: TopicDefinition, value: unknown): Promise<void> {
    return publish(definition.topic, this.codecFor(definition).encode(value), definition.retained);
  }

  /** Resolves when the broker acknowledged the publish (or it failed: logged, never thrown). */
  private clientPublisher(client: MqttClient): Publish {
    return (topic, payload, retain) => {
      this.echoes.expect(topic, payload);
      return new Promise((resolve) =>
        client.publish(topic, payload, { qos: 1, retain }, (error) => {
          if (error) this.log.debug({ topic, err: error.message }, 'MQTT publish not acknowledged');
          resolve();
        }),
      );
    };
  }

  // ---- MQTT -> bus ----

  /** A message from the external broker (we subscribe to ci/#): a client's write, or our own echo. */
  private onMqttMessage(topic: string, payload: Buffer, retainFlag: boolean): void {
    if (this.echoes.consume(topic, payload) || this.stopped) return;
    this.take(topic, payload, retainFlag);
  }

  /** A client's publish on the embedded broker, before anyone else sees it: the reason it is refused, if it is. */
  private inspectWrite(topic: string, payload: Buffer): string | undefined {
    return this.stopped ? undefined : this.take(topic, payload, false);
  }

  /** Apply a write to the bus or refuse it (logged and reported); returns the refusal reason. */
  private take(topic: string, payload: Buffer, retainedCopy: boolean): string | undefined {
    let verdict: Verdict;
    try {
      verdict = this.judge(topic, payload, retainedCopy);
      if (verdict.kind === 'apply') this.bus.publish(topic, verdict.value);
    } catch (error) {
      // Whatever a client sends must not take the plugin down; the bus names a value it rejects.
      verdict = { kind: 'refuse', reason: error instanceof BusValidationError ? error.message : `internal error: ${(error as Error).message}` };
    }
    if (verdict.kind !== 'refuse') return undefined;
    this.refuse(topic, payload, verdict.reason);
    return verdict.reason;
  }

  /**
   * `retainedCopy`: delivered from the broker's store on (re)subscribe, so possibly stale state
   * rather than a write.
   */
  private judge(topic: string, payload: Buffer, retainedCopy: boolean): Verdict {
    const definition = this.registry.get(topic);
    if (!definition) {
      return topic.startsWith(STACK_PREFIX) ? { kind: 'refuse', reason: `unknown topic: nothing under '${STACK_PREFIX}' has this name` } : { kind: 'ignore' };
    }
    if (definition.direction === 'subscribeable-only') {
      // A copy the broker kept from an earlier run is overwritten by the republish on connect.
      if (retainedCopy) return { kind: 'ignore' };
      return { kind: 'refuse', reason: 'topic is subscribeable-only: the stack writes it, applications may only read it' };
    }
    if (this.config.readOnly.some((pattern) => topicMatches(pattern, topic))) {
      return { kind: 'refuse', reason: 'topic is controlled by another interface (plugins.mqtt-api.config.readOnly): read-only over MQTT' };
    }
    let value: unknown;
    try {
      value = this.codecFor(definition).decode(payload);
    } catch (error) {
      if (error instanceof PayloadDecodeError) return { kind: 'refuse', reason: error.reason };
      throw error;
    }
    const problem = this.registry.validate(topic, value);
    if (problem !== undefined) return { kind: 'refuse', reason: problem };
    // A retained copy that the bus already holds is not a new write.
    if (retainedCopy && sameValue(this.bus.get(topic), value)) return { kind: 'ignore' };
    return { kind: 'apply', value };
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
