/**
 * The EV side of SLAC (ISO 15118-3), for the EV simulator and for tests of the EVSE side.
 * It runs the matching as an EV does, with the standard's timers and C_EV_match_retry retries, and can
 * inject the faults real EVs show (wrong RunID, missing CM_SLAC_MATCH.REQ).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@opensecc/plugin-api';
import { decodeFrame, encodeFrame, type DecodedFrame } from './codec.js';
import {
  C_EV_MATCH_RETRY,
  C_EV_START_ATTEN_CHAR_INDS,
  SLAC_MATCH_REQ_MVF_LENGTH,
  STATION_ID_LENGTH,
  resolveTimers,
  type SlacTimers,
} from './constants.js';
import { generateRunId, generateSessionKeys, nidFromNmk, type RandomSource } from './keys.js';
import type { SlacLink } from './link.js';
import { BROADCAST_MAC, QCA_LOCAL_MAC, normalizeMac } from './mac.js';
import type { MessageFields, MessageName, MessageOf } from './messages.js';

export interface SlacEvOptions {
  readonly link: SlacLink;
  readonly log: Logger;
  readonly timers?: Partial<SlacTimers>;
  /** Fixed RunID (8 bytes hex) for every attempt; default a random one per attempt. */
  readonly runId?: string;
  /** PEV ID for CM_SLAC_MATCH.REQ, 17 bytes hex (default zeros). */
  readonly pevId?: string;
  /** The EV's own modem for CM_SET_KEY.REQ (default 00:b0:52:00:00:01). */
  readonly modemAddress?: string;
  /** Give the own modem a random NMK before matching and the EVSE's NMK after it (default true). */
  readonly setKey?: boolean;
  /** An EVSE whose average attenuation is above this (dB) is not accepted (default 60). */
  readonly maxAttenuationDb?: number;
  /** Retries of each request and of the whole matching (C_EV_match_retry, default 2). */
  readonly retries?: number;
  readonly faults?: {
    /** Send CM_SLAC_MATCH.REQ with this RunID instead of the session's. */
    readonly matchRunId?: string;
    /** Stop after CM_ATTEN_CHAR.RSP, never sending CM_SLAC_MATCH.REQ. */
    readonly skipMatchRequest?: boolean;
  };
  readonly random?: RandomSource;
}

export interface SlacEvResult {
  readonly ok: boolean;
  readonly attempts: number;
  readonly runId?: string;
  readonly evseMac?: string;
  readonly nid?: string;
  readonly nmk?: string;
  readonly attenuation?: { readonly numSounds: number; readonly aag: readonly number[]; readonly averageDb: number | null };
  readonly reason?: string;
}

type Waiter = { match: (frame: DecodedFrame) => boolean; resolve: (frame: DecodedFrame | undefined) => void; timer: NodeJS.Timeout };

const ZERO_STATION_ID = '00'.repeat(STATION_ID_LENGTH);

class AttemptFailure extends Error {}

export class SlacEv {
  readonly #link: SlacLink;
  readonly #log: Logger;
  readonly #timers: SlacTimers;
  readonly #options: SlacEvOptions;
  readonly #modemAddress: string;
  readonly #retries: number;
  readonly #random: RandomSource;
  readonly #waiters = new Set<Waiter>();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(options: SlacEvOptions) {
    this.#options = options;
    this.#link = options.link;
    this.#log = options.log.child({ module: 'slac', role: 'ev', iface: options.link.name });
    this.#timers = resolveTimers(options.timers);
    this.#modemAddress = normalizeMac(options.modemAddress ?? QCA_LOCAL_MAC);
    this.#retries = options.retries ?? C_EV_MATCH_RETRY;
    this.#random = options.random ?? randomBytes;
  }

  get mac(): string {
    return this.#link.mac;
  }

  /** Runs the matching to the end: resolves with the result, never rejects for protocol failures. */
  async match(): Promise<SlacEvResult> {
    this.#stopped = false;
    this.#unsubscribe ??= this.#link.onFrame((raw) => this.#onFrame(raw));
    try {
      if (this.#options.setKey ?? true) {
        // Leave whatever network the modem was in before: a fresh random key, as EVs do on plug-in.
        const keys = generateSessionKeys(this.#random);
        this.#setKey(keys.nid, keys.nmk);
      }
      let lastReason = '';
      const attempts = 1 + this.#retries;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (this.#stopped) return { ok: false, attempts: attempt - 1, reason: 'stopped' };
        try {
          const result = await this.#attempt(attempt);
          return result;
        } catch (error) {
          if (!(error instanceof AttemptFailure)) throw error;
          lastReason = error.message;
          this.#log.warn({ attempt, reason: lastReason }, 'EV matching attempt failed');
          if (this.#options.faults?.skipMatchRequest) return { ok: false, attempts: attempt, reason: lastReason };
        }
      }
      this.#log.error({ reason: lastReason }, 'EV SLAC failed');
      return { ok: false, attempts, reason: `${lastReason}; ${attempts} attempts failed` };
    } finally {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
    }
  }

  /** Aborts a running match() (it resolves with ok false). */
  stop(): void {
    this.#stopped = true;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(undefined);
    }
    this.#waiters.clear();
  }

  async #attempt(attempt: number): Promise<SlacEvResult> {
    const runId = this.#options.runId ?? generateRunId(this.#random);
    this.#log.info({ attempt, runId }, 'EV matching attempt started');

    // 1. Find the EVSE: CM_SLAC_PARM.REQ broadcast, repeated until a CNF with our RunID arrives.
    const cnfFrame = await this.#request(
      () => this.#send(BROADCAST_MAC, 'CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId }),
      (f) => f.message?.name === 'CM_SLAC_PARM.CNF' && f.message.runId === runId,
      'CM_SLAC_PARM.CNF',
    );
    const cnf = cnfFrame.message as MessageOf<'CM_SLAC_PARM.CNF'>;
    const evseMac = cnfFrame.src;
    this.#log.info({ evseMac, numSounds: cnf.numSounds, timeOut: cnf.timeOut }, 'CM_SLAC_PARM.CNF received');

    // 2. Sounding. The results may arrive while we still sound, so wait for them from the start.
    const results = this.#waitFor(
      (f) => f.src === evseMac && f.message?.name === 'CM_ATTEN_CHAR.IND' && f.message.runId === runId,
      this.#timers.evAttenResultsMs,
    );
    for (let i = 0; i < C_EV_START_ATTEN_CHAR_INDS; i++) {
      this.#send(BROADCAST_MAC, 'CM_START_ATTEN_CHAR.IND', {
        applicationType: 0, securityType: 0, numSounds: cnf.numSounds, timeOut: cnf.timeOut, respType: 1, forwardingSta: this.mac, runId,
      });
      await this.#sleep(this.#timers.evBatchMsgIntervalMs);
    }
    for (let cnt = cnf.numSounds - 1; cnt >= 0; cnt--) {
      this.#send(BROADCAST_MAC, 'CM_MNBC_SOUND.IND', {
        applicationType: 0, securityType: 0, senderId: ZERO_STATION_ID, cnt, runId, reserved: '0000000000000000', rnd: this.#random(16).toString('hex'),
      });
      await this.#sleep(this.#timers.evBatchMsgIntervalMs);
    }
    const indFrame = await results;
    if (this.#stopped) throw new AttemptFailure('stopped');
    if (!indFrame) throw new AttemptFailure(`no CM_ATTEN_CHAR.IND within TT_EV_atten_results (${this.#timers.evAttenResultsMs} ms)`);
    const ind = indFrame.message as MessageOf<'CM_ATTEN_CHAR.IND'>;
    this.#send(evseMac, 'CM_ATTEN_CHAR.RSP', {
      applicationType: 0, securityType: 0, sourceAddress: this.mac, runId, sourceId: ZERO_STATION_ID, respId: ZERO_STATION_ID, result: 0,
    });
    const averageDb = ind.aag.length ? ind.aag.reduce((a, b) => a + b, 0) / ind.aag.length : null;
    const attenuation = { numSounds: ind.numSounds, aag: ind.aag, averageDb };
    this.#log.info({ evseMac, numSounds: ind.numSounds, numGroups: ind.numGroups, averageDb }, 'CM_ATTEN_CHAR.IND received, CM_ATTEN_CHAR.RSP sent');
    const limit = this.#options.maxAttenuationDb ?? 60;
    if (averageDb !== null && averageDb > limit) {
      throw new AttemptFailure(`attenuation ${averageDb.toFixed(1)} dB to ${evseMac} is above ${limit} dB: not our EVSE`);
    }

    if (this.#options.faults?.skipMatchRequest) throw new AttemptFailure('fault injection: CM_SLAC_MATCH.REQ not sent');

    // 3. Match.
    const matchRunId = this.#options.faults?.matchRunId ?? runId;
    const matchFrame = await this.#request(
      () =>
        this.#send(evseMac, 'CM_SLAC_MATCH.REQ', {
          applicationType: 0,
          securityType: 0,
          mvfLength: SLAC_MATCH_REQ_MVF_LENGTH,
          pevId: this.#options.pevId ?? ZERO_STATION_ID,
          pevMac: this.mac,
          evseId: ZERO_STATION_ID,
          evseMac,
          runId: matchRunId,
          reserved: '0000000000000000',
        }),
      (f) => f.src === evseMac && f.message?.name === 'CM_SLAC_MATCH.CNF' && f.message.runId === runId,
      'CM_SLAC_MATCH.CNF',
    );
    const match = matchFrame.message as MessageOf<'CM_SLAC_MATCH.CNF'>;
    const derivedNid = nidFromNmk(Buffer.from(match.nmk, 'hex')).toString('hex');
    if (derivedNid !== match.nid) this.#log.warn({ nid: match.nid, derivedNid }, 'the EVSE\'s NID is not derived from its NMK');
    if (this.#options.setKey ?? true) this.#setKey(match.nid, match.nmk);
    this.#log.info({ evseMac, runId, nid: match.nid, attempt }, 'CM_SLAC_MATCH.CNF received: matched');
    return { ok: true, attempts: attempt, runId, evseMac, nid: match.nid, nmk: match.nmk, attenuation };
  }

  /** Sends, waits TT_match_response for the answer, repeats C_EV_match_retry times. */
  async #request(send: () => void, match: (f: DecodedFrame) => boolean, what: string): Promise<DecodedFrame> {
    for (let i = 0; i <= this.#retries; i++) {
      const answer = this.#waitFor(match, this.#timers.matchResponseMs);
      send();
      const frame = await answer;
      if (this.#stopped) throw new AttemptFailure('stopped');
      if (frame) return frame;
    }
    throw new AttemptFailure(`no ${what} within TT_match_response after ${1 + this.#retries} requests`);
  }

  #setKey(nid: string, nmk: string): void {
    this.#send(this.#modemAddress, 'CM_SET_KEY.REQ', {
      keyType: 1, myNonce: this.#random(4).toString('hex'), yourNonce: '00000000', pid: 4, prn: 0, pmn: 0, ccoCapability: 0, nid, newEks: 1, newKey: nmk,
    });
  }

  #onFrame(raw: Buffer): void {
    const decoded = decodeFrame(raw);
    if (!decoded.ok) {
      this.#log.warn({ error: decoded.error.reason, at: decoded.error.at }, 'dropped a malformed HomePlug frame');
      return;
    }
    const frame = decoded.frame;
    if (frame.src === this.mac || (frame.dst !== this.mac && frame.dst !== BROADCAST_MAC)) return;
    for (const waiter of this.#waiters) {
      if (waiter.match(frame)) {
        this.#waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(frame);
      }
    }
  }

  #waitFor(match: (frame: DecodedFrame) => boolean, ms: number): Promise<DecodedFrame | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        match,
        resolve,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          resolve(undefined);
        }, ms),
      };
      this.#waiters.add(waiter);
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  #send<N extends MessageName>(dst: string, name: N, fields: MessageFields[N]): void {
    this.#link.send(encodeFrame(name, fields, { dst, src: this.mac }));
  }
}
