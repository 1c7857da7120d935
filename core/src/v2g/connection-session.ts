/**
 * One V2G connection from the first byte to close: the app handshake, then the negotiated
 * protocol's SECC state machine, with the standard's timers on the connection. Everything that can
 * go wrong on the wire (undecodable EXI, failed negotiation, timeouts) ends here with a log line and
 * a closed connection, never with an exception outside.
 */
import { decode, encode } from '@opensecc/exi-codec';
import type { Logger } from '@opensecc/plugin-api';
import { appProtocolsOf, negotiate, type AppProtocolName, type NegotiationPolicy } from './apphand/negotiate.js';
import type { V2gChargingPort } from './charging-port.js';
import { DinSeccSession, type DinOutcome, type DinSeccConfig, type DinSeccHooks } from './din/secc.js';
import type { EvseDataSource, HlcReporter } from './evse-data.js';
import type { Iso2SeccConfig } from './iso2/config.js';
import type { Iso2EvseDataSource } from './iso2/evse-data.js';
import type { Iso2ServiceProvider } from './iso2/services.js';
import { Iso2SeccSession, type Iso2Outcome } from './iso2/secc.js';
import type { Iso2PncProvider } from './iso2/pnc.js';
import { HLC } from './topics.js';
import { describeClose, type V2gtpConnection } from './transport/connection.js';
import { PAYLOAD_TYPE } from './transport/header.js';
import { traceNow } from '../trace/publish.js';
import type { V2gtpMessage } from './transport/decoder.js';

export interface V2gTimeouts {
  /** From connection to SessionSetupReq (V2G_SECC_CommunicationSetup_Performance_Time, 20 s). */
  readonly communicationSetupMs: number;
  /** From a response to the next request (V2G_SECC_Sequence_Timeout, 60 s). */
  readonly sequenceMs: number;
  /** EVSEProcessing=Ongoing in one step at most (V2G_SECC_Ongoing_Timeout, 60 s). */
  readonly ongoingMs: number;
}

export const DEFAULT_V2G_TIMEOUTS: V2gTimeouts = { communicationSetupMs: 20_000, sequenceMs: 60_000, ongoingMs: 60_000 };

export interface ConnectionSessionDeps {
  readonly connection: V2gtpConnection;
  readonly policy: NegotiationPolicy;
  readonly timeouts: V2gTimeouts;
  readonly evse: EvseDataSource;
  readonly report: HlcReporter;
  readonly log: Logger;
  readonly port?: V2gChargingPort;
  readonly din?: Partial<DinSeccConfig>;
  readonly iso2?: Partial<Iso2SeccConfig>;
  /** ISO 15118-2's extra customer data (AC limits, schedules, tariffs, meter, renegotiation). */
  readonly iso2Evse?: Iso2EvseDataSource;
  /** ISO 15118-2 value-added services (the vas plugin's provider), if one is installed. */
  readonly iso2Services?: Iso2ServiceProvider;
  /** ISO 15118-2 Plug & Charge (the pnc plugin's provider), if one is installed. */
  readonly iso2Pnc?: Iso2PncProvider;
  readonly hooks?: DinSeccHooks;
  readonly previousSessionId?: string;
  /** Each request/response pair, for traces and tests. */
  readonly onExchange?: (exchange: { request: string; response: string | undefined; code: string | undefined }) => void;
  readonly onEnd?: (info: { sessionId: string | undefined; reason: string; protocol: AppProtocolName | undefined; paused: boolean }) => void;
  /** Every V2GTP message in either direction, for the protocol trace (cheap when tracing is off). */
  readonly onTraffic?: (traffic: V2gTraffic) => void;
}

/** One V2GTP message as the trace records it. */
export interface V2gTraffic {
  readonly direction: 'rx' | 'tx';
  /** The connection until SessionSetup assigned a session ID. */
  readonly session: string;
  /** exi-codec schema name of the payload. */
  readonly protocol: string;
  readonly payloadType: number;
  readonly payload: Uint8Array;
  /** When it was received or sent (ms since the epoch, sub-millisecond). */
  readonly at: number;
}

/** The app protocols this build can run a session for. */
export const IMPLEMENTED_PROTOCOLS: readonly AppProtocolName[] = ['din70121', 'iso15118-2'];

export class ConnectionSession {
  private protocol: AppProtocolName | undefined;
  private din: DinSeccSession | Iso2SeccSession | undefined;
  private schema: 'din' | 'iso2' = 'din';
  private paused = false;
  private readonly log: Logger;
  private endReason: string | undefined;
  /** Traffic before the session ID was known (app handshake, SessionSetupReq). */
  private readonly untraced: Array<Omit<V2gTraffic, 'session'>> = [];
  /** The request being answered: traced once the response is on its way, so tracing costs the car no time. */
  private heldRequest: Omit<V2gTraffic, 'session' | 'direction'> | undefined;

  constructor(private readonly deps: ConnectionSessionDeps) {
    this.log = deps.log.child({ conn: deps.connection.id });
    const connection = deps.connection;
    connection.arm('V2G_SECC_CommunicationSetup_Timeout', deps.timeouts.communicationSetupMs);
    connection.onRequest((message) => this.onMessage(message));
    connection.onClose((reason) => void this.finish(this.endReason ?? describeClose(reason)));
    deps.report.set(HLC.session.tls, connection.secure);
    deps.report.set(HLC.session.state, 'app_handshake');
  }

  get sessionId(): string | undefined {
    return this.din?.sessionId || undefined;
  }

  get negotiated(): AppProtocolName | undefined {
    return this.protocol;
  }

  /** End from outside (unplug, CP fault, daemon stop). */
  async abort(reason: string): Promise<void> {
    this.endReason ??= reason;
    // Stop talking first (no request is answered any more), then bring the power path down.
    const done = this.din?.abort(reason);
    this.deps.connection.close({ kind: 'local', why: reason });
    await done;
  }

  private onMessage(message: V2gtpMessage): void | Promise<void> {
    const protocol = this.protocol === undefined ? 'apphand' : this.schema;
    this.heldRequest = { payloadType: message.payloadType, payload: message.payload, protocol, at: traceNow() };
    if (message.payloadType !== PAYLOAD_TYPE.exi) return this.traceHeldRequest();
    const handled = this.protocol === undefined ? this.handshake(message.payload) : this.exchange(message.payload);
    if (handled instanceof Promise) return handled.finally(() => this.traceHeldRequest());
    this.traceHeldRequest();
  }

  /** The request's trace, if no response has carried it out yet (none sent, or the connection closed). */
  private traceHeldRequest(): void {
    const held = this.heldRequest;
    if (!held) return;
    this.heldRequest = undefined;
    this.traffic('rx', held.payloadType, held.payload, held.at, held.protocol);
  }

  private handshake(payload: Buffer): void {
    const connection = this.deps.connection;
    let entries;
    try {
      entries = appProtocolsOf(decode('apphand', payload));
    } catch (error) {
      this.closeWith(`supportedAppProtocolReq not understood: ${(error as Error).message}`, payload);
      return;
    }
    const result = negotiate(entries, this.deps.policy);
    this.send(encode('apphand', result.response), 'apphand');
    this.deps.onExchange?.({ request: 'supportedAppProtocolReq', response: 'supportedAppProtocolRes', code: result.response.supportedAppProtocolRes.ResponseCode });
    if (!result.ok) {
      this.log.warn({ reason: result.reason }, 'app protocol negotiation failed');
      this.endReason = `app handshake failed: ${result.reason}`;
      this.deps.report.set(HLC.session.stopReason, this.endReason);
      connection.close({ kind: 'local', why: this.endReason });
      return;
    }
    this.protocol = result.protocol;
    this.log.info({ protocol: result.protocol, schemaId: result.schemaId, minorDeviation: result.minorDeviation }, 'app protocol negotiated');
    this.deps.report.set(HLC.session.protocol, result.protocol);
    const common = {
      evse: this.deps.evse,
      report: this.deps.report,
      log: this.log,
      ...(this.deps.port ? { port: this.deps.port } : {}),
      ...(this.deps.hooks ? { hooks: this.deps.hooks } : {}),
      ...(this.deps.previousSessionId ? { previousSessionId: this.deps.previousSessionId } : {}),
    };
    if (result.protocol === 'iso15118-2') {
      this.schema = 'iso2';
      this.din = new Iso2SeccSession({
        ...common,
        ...(this.deps.iso2Evse ? { iso2Evse: this.deps.iso2Evse } : {}),
        ...(this.deps.iso2Services ? { services: this.deps.iso2Services } : {}),
        ...(this.deps.iso2Pnc ? { pnc: this.deps.iso2Pnc } : {}),
        secure: this.deps.connection.secure,
        config: { ongoingTimeoutMs: this.deps.timeouts.ongoingMs, ...(this.deps.din?.powerDeliveryTimeoutMs ? { powerDeliveryTimeoutMs: this.deps.din.powerDeliveryTimeoutMs } : {}), ...(this.deps.din?.cableCheckNeedsStateC !== undefined ? { cableCheckNeedsStateC: this.deps.din.cableCheckNeedsStateC } : {}), ...this.deps.iso2 },
      });
    } else {
      this.schema = 'din';
      this.din = new DinSeccSession({ ...common, config: { ongoingTimeoutMs: this.deps.timeouts.ongoingMs, ...this.deps.din } });
    }
    // Still within communication setup until SessionSetupReq: the timer keeps running.
  }

  private exchange(payload: Buffer): void | Promise<void> {
    let request: Record<string, unknown>;
    try {
      request = decode(this.schema, payload);
    } catch (error) {
      this.closeWith(`${this.schema === 'iso2' ? 'ISO 15118-2' : 'DIN 70121'} message not understood: ${(error as Error).message}`, payload);
      return;
    }
    const outcome = this.din!.handle(request);
    if (outcome instanceof Promise) return outcome.then((o) => this.respond(request, o));
    this.respond(request, outcome);
  }

  private respond(request: Record<string, unknown>, outcome: DinOutcome & Partial<Pick<Iso2Outcome, 'paused'>>): void {
    const connection = this.deps.connection;
    const requestName = Object.keys((request as { V2G_Message: { Body: object } }).V2G_Message?.Body ?? {})[0] ?? '?';
    if (outcome.response) {
      let bytes: Uint8Array;
      try {
        bytes = encode(this.schema, outcome.response);
      } catch (error) {
        this.log.error({ err: error, response: outcome.responseName }, 'response cannot be encoded: closing');
        this.endReason = `internal error encoding ${outcome.responseName}`;
        void this.din?.abort(this.endReason);
        connection.close({ kind: 'local', why: this.endReason });
        return;
      }
      this.send(bytes, this.schema);
    }
    this.deps.onExchange?.({ request: requestName, response: outcome.responseName, code: outcome.responseCode });
    const level = (requestName === 'CurrentDemandReq' || requestName === 'ChargingStatusReq') && outcome.responseCode === 'OK' ? 'debug' : 'info';
    this.log[level]({ request: requestName, response: outcome.responseName, code: outcome.responseCode }, 'V2G exchange');
    if (outcome.close) {
      this.paused = outcome.paused === true;
      this.endReason = outcome.stopReason ?? 'session ended';
      connection.close({ kind: 'local', why: this.endReason });
      return;
    }
    connection.arm('V2G_SECC_Sequence_Timeout', this.deps.timeouts.sequenceMs);
  }

  private send(bytes: Uint8Array, protocol: string): void {
    this.deps.connection.send(PAYLOAD_TYPE.exi, bytes);
    const at = traceNow();
    this.traceHeldRequest();
    this.traffic('tx', PAYLOAD_TYPE.exi, bytes, at, protocol);
  }

  /**
   * The schema of an incoming payload is the one the handshake state implies. Messages before
   * SessionSetup assigned the session ID are held back and traced under that ID once it exists,
   * so that one session's trace is one session (else under the connection, when it never does).
   */
  private traffic(direction: 'rx' | 'tx', payloadType: number, payload: Uint8Array, at: number, protocol: string): void {
    if (!this.deps.onTraffic) return;
    const sessionId = this.sessionId;
    if (sessionId === undefined) {
      this.untraced.push({ direction, payloadType, payload: Uint8Array.from(payload), protocol, at });
      return;
    }
    this.flushTraffic(sessionId);
    this.deps.onTraffic({ direction, session: sessionId, protocol, payloadType, payload, at });
  }

  private flushTraffic(session: string): void {
    for (const held of this.untraced.splice(0)) this.deps.onTraffic?.({ ...held, session });
  }

  private closeWith(reason: string, payload: Buffer): void {
    this.log.warn({ reason, bytes: payload.subarray(0, 32).toString('hex') }, 'closing the V2G connection');
    this.endReason = reason;
    this.deps.connection.close({ kind: 'protocol', why: reason });
  }

  private async finish(reason: string): Promise<void> {
    this.traceHeldRequest();
    this.flushTraffic(this.sessionId ?? `conn-${this.deps.connection.id}`);
    const din = this.din;
    if (din && !din.ended) await din.abort(reason);
    else if (!din) this.deps.report.set(HLC.session.stopReason, reason);
    this.deps.onEnd?.({ sessionId: this.sessionId, reason, protocol: this.protocol, paused: this.paused });
  }
}
