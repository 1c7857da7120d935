/**
 * The stack's end of the EVSE controller CAN interface: sends the stack's cyclic status from the bus
 * topics the MQTT API also exposes, applies the controller's cyclic input to the ci/hlc/evse/…
 * topics (only the signals valid in the current session state), supervises the controller's
 * messages and, when one goes missing during a session, requests the error shutdown. Bad frames
 * are counted, logged and ignored as a whole.
 */
import type { Bus, Logger, Unsubscribe } from '@opensecc/plugin-api';
import { encodeMessage, readRaw } from '../dbc/codec.js';
import type { CanFrame, CanTransport } from '../transport/types.js';
import { isValidIn, SESSION_STATE_TOPIC, type ApiMessage, type CanApi } from './api.js';
import { CAN_TOPIC, type BadFrameReason, type CanStats, type CanStatus, type ControllerState } from './topics.js';
import { decodeSignal, encodeSignal, sameTopicValue } from './values.js';

export const ERROR_SHUTDOWN_TOPIC = 'ci/hlc/evse/error_shutdown';
/** Session states in which nothing runs that a missing controller could endanger. */
const INACTIVE_STATES = new Set(['idle', 'sdp', 'stopped', 'error']);

export interface ControllerLinkOptions {
  readonly api: CanApi;
  readonly transport: CanTransport;
  readonly bus: Bus;
  readonly log: Logger;
  readonly bitrate: number;
  /** Called for every frame in and out (the plugin passes traceCan). */
  readonly trace?: (direction: 'rx' | 'tx', frame: CanFrame) => void;
  /** How often the controller's messages are checked (default 20 ms). */
  readonly superviseEveryMs?: number;
}

export class ControllerLink {
  private readonly api: CanApi;
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribes: Unsubscribe[] = [];
  private readonly lastSeen = new Map<string, number>();
  private readonly missing = new Set<string>();
  private sessionState: string | undefined;
  private sessionActiveSince: number | undefined;
  private latched = false;
  private lastTick = Date.now();
  private running = false;
  private statsDirty = false;
  private statsPublishedAt = 0;
  private lastStatus = '';
  private readonly stats = {
    rxFrames: 0,
    txFrames: 0,
    txErrors: 0,
    foreignFrames: 0,
    notValidInState: 0,
    badFrames: { wrong_length: 0, unknown_id: 0, wrong_direction: 0, out_of_range: 0 } as Record<BadFrameReason, number>,
  };
  private readonly statusMessage: ApiMessage | undefined;

  constructor(private readonly options: ControllerLinkOptions) {
    this.api = options.api;
    this.bus = options.bus;
    this.log = options.log;
    this.statusMessage = this.api.messages.find((m) => m.direction === 'tx' && m.signals.some((s) => s.topic === SESSION_STATE_TOPIC));
  }

  get counters(): CanStats {
    return { ...this.stats, badFrames: { ...this.stats.badFrames } };
  }

  async start(): Promise<void> {
    const { transport } = this.options;
    this.unsubscribes.push(transport.onFrame((frame) => this.receive(frame)));
    await transport.open();
    this.running = true;
    this.unsubscribes.push(this.bus.subscribe<string>(SESSION_STATE_TOPIC, (m) => this.onSessionState(m.value), { replay: true }));
    for (const message of this.api.messages.filter((m) => m.direction === 'tx')) {
      this.timers.push(setInterval(() => this.send(message), message.cycleMs));
    }
    this.lastTick = Date.now();
    this.timers.push(setInterval(() => this.supervise(), this.options.superviseEveryMs ?? 20));
    this.timers.push(setInterval(() => this.flushStats(), 1000));
    this.publishStatus();
    this.publishStats();
    this.log.info({ transport: transport.name, bitrate: this.options.bitrate, database: this.api.database.source, messages: this.api.messages.length }, 'CAN interface to the EVSE controller started');
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    await this.options.transport.close();
  }

  // ---- stack → controller ----

  private onSessionState(state: string): void {
    const previous = this.sessionState;
    this.sessionState = state;
    const active = !INACTIVE_STATES.has(state);
    if (active && this.sessionActiveSince === undefined) this.sessionActiveSince = Date.now();
    if (!active) {
      this.sessionActiveSince = undefined;
      // The session the shutdown was for is over; a new one is supervised afresh.
      if (this.latched) this.latched = false;
      this.publishStatus();
    }
    // The controller learns of a new state at once, not only with the next cycle.
    if (state !== previous && this.statusMessage && this.running) this.send(this.statusMessage);
  }

  private send(message: ApiMessage): void {
    const raws = new Map<string, number>();
    for (const s of message.signals) {
      if (!isValidIn(s, this.sessionState)) continue;
      const raw = encodeSignal(s, this.bus.get(s.topic));
      if (raw !== undefined) raws.set(s.signal.name, raw);
    }
    const frame: CanFrame = { id: message.message.id, extended: true, data: encodeMessage(message.message, raws) };
    try {
      this.options.transport.send(frame);
      this.stats.txFrames++;
      this.options.trace?.('tx', frame);
    } catch (error) {
      this.stats.txErrors++;
      if (this.stats.txErrors === 1 || this.stats.txErrors % 100 === 0) this.log.warn({ err: error, message: message.message.name, txErrors: this.stats.txErrors }, 'CAN send failed');
    }
    this.statsDirty = true;
  }

  // ---- controller → stack ----

  private receive(frame: CanFrame): void {
    if (!this.running) return;
    this.stats.rxFrames++;
    this.statsDirty = true;
    this.options.trace?.('rx', frame);
    const { min, max } = this.api.idRange;
    if (!frame.extended || frame.id < min || frame.id > max) {
      this.stats.foreignFrames++;
      return;
    }
    const message = this.api.byId.get(frame.id);
    if (!message) return this.bad(frame, 'unknown_id', 'no message with this id in the database');
    if (message.direction !== 'rx') return this.bad(frame, 'wrong_direction', `${message.message.name} is sent by the stack, not by the controller`);
    if (frame.data.length !== message.message.dlc) return this.bad(frame, 'wrong_length', `${message.message.name} has ${message.message.dlc} bytes, the frame ${frame.data.length}`);
    // Decode the whole frame first: one bad signal discards the frame, nothing is applied.
    const decoded = [];
    for (const s of message.signals) {
      const result = decodeSignal(s, readRaw(s.signal, frame.data));
      if (!result.ok) return this.bad(frame, 'out_of_range', `${message.message.name}: ${result.reason}`);
      decoded.push({ s, result });
    }
    this.lastSeen.set(message.message.name, Date.now());
    if (this.missing.delete(message.message.name)) this.log.info({ message: message.message.name }, 'EVSE controller message back');
    this.publishStatus();
    for (const { s, result } of decoded) {
      if (result.sna) continue;
      if (!isValidIn(s, this.sessionState)) {
        this.stats.notValidInState++;
        continue;
      }
      // While the plugin holds the error shutdown, the controller cannot lift it for this session.
      if (this.latched && s.topic === ERROR_SHUTDOWN_TOPIC && result.value === false) continue;
      if (sameTopicValue(this.bus.get(s.topic), result.value)) continue;
      try {
        this.bus.publish(s.topic, result.value);
      } catch (error) {
        this.log.error({ err: error, topic: s.topic, signal: s.signal.name }, 'cannot publish a controller value');
      }
    }
  }

  private bad(frame: CanFrame, reason: BadFrameReason, detail: string): void {
    const count = ++this.stats.badFrames[reason];
    // A controller that keeps sending garbage must not flood the log: the first ten, then every hundredth.
    if (count <= 10 || count % 100 === 0) {
      this.log.warn({ id: `0x${frame.id.toString(16)}`, data: Buffer.from(frame.data).toString('hex'), reason, count }, `bad CAN frame ignored: ${detail}`);
    }
    // Counters go out at once unless they did less than 200 ms ago (then with the next second).
    if (Date.now() - this.statsPublishedAt >= 200) this.publishStats();
  }

  // ---- supervision ----

  private supervise(): void {
    const now = Date.now();
    const period = this.options.superviseEveryMs ?? 20;
    const late = now - this.lastTick - period;
    this.lastTick = now;
    if (late > period) {
      // The process itself did not run (GC, a long synchronous task): frames may be waiting in the
      // receive queue, and timers run before I/O. Time we could not listen is not controller silence.
      for (const [name, at] of this.lastSeen) this.lastSeen.set(name, at + late);
      if (this.sessionActiveSince !== undefined) this.sessionActiveSince += late;
      return;
    }
    for (const message of this.api.messages) {
      if (message.direction !== 'rx' || message.timeoutMs <= 0) continue;
      const name = message.message.name;
      const since = this.lastSeen.get(name) ?? this.sessionActiveSince;
      if (since === undefined || this.missing.has(name) || now - since <= message.timeoutMs) continue;
      this.missing.add(name);
      const text = `EVSE controller message ${name} missing for more than ${message.timeoutMs} ms`;
      this.log.error({ message: name, timeoutMs: message.timeoutMs, session: this.sessionState }, text);
      this.publishError('controller_timeout', text);
      this.publishStatus();
    }
    const active = this.sessionActiveSince !== undefined;
    if (this.missing.size > 0 && active && (!this.latched || this.bus.get(ERROR_SHUTDOWN_TOPIC) !== true)) {
      if (!this.latched) this.log.error({ missing: [...this.missing], session: this.sessionState }, 'EVSE controller silent during a session: error shutdown');
      this.latched = true;
      try {
        this.bus.publish(ERROR_SHUTDOWN_TOPIC, true);
      } catch (error) {
        this.log.error({ err: error }, 'cannot request the error shutdown');
      }
      this.publishStatus();
    }
  }

  private controllerState(): ControllerState {
    if (this.missing.size > 0) return 'timeout';
    const all = this.api.messages.filter((m) => m.direction === 'rx').every((m) => this.lastSeen.has(m.message.name));
    return all ? 'ok' : 'waiting';
  }

  private publishStatus(): void {
    const status: CanStatus = {
      transport: this.options.transport.name,
      bitrate: this.options.bitrate,
      controller: this.controllerState(),
      missing: [...this.missing],
      errorShutdown: this.latched,
    };
    const text = JSON.stringify(status);
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.safePublish(CAN_TOPIC.status, status);
  }

  private publishError(code: string, message: string): void {
    this.safePublish(CAN_TOPIC.error, { code, message, since: new Date().toISOString() });
  }

  private flushStats(): void {
    if (this.statsDirty) this.publishStats();
  }

  private publishStats(): void {
    this.statsDirty = false;
    this.statsPublishedAt = Date.now();
    this.safePublish(CAN_TOPIC.stats, this.counters);
  }

  private safePublish(topic: string, value: unknown): void {
    try {
      this.bus.publish(topic, value);
    } catch (error) {
      this.log.error({ err: error, topic }, 'publish failed');
    }
  }
}
