/**
 * The EVSE side of SLAC (ISO 15118-3, signal level attenuation characterization), with the standard's
 * timers and retries, the per-session NMK/NID, attenuation averaging, and the control pilot coupling.
 *
 * Sequence (EV → EVSE unless marked ←):
 *   CM_SLAC_PARM.REQ, ← CM_SLAC_PARM.CNF, 3 × CM_START_ATTEN_CHAR.IND, N × CM_MNBC_SOUND.IND
 *   (with N × CM_ATTEN_PROFILE.IND from our own modem), ← CM_ATTEN_CHAR.IND, CM_ATTEN_CHAR.RSP,
 *   [CM_VALIDATE.REQ, ← CM_VALIDATE.CNF], CM_SLAC_MATCH.REQ, ← CM_SLAC_MATCH.CNF (NID + NMK).
 * Before it waits for the EV, the EVSE hands the session's NMK/NID to its modem with CM_SET_KEY.REQ, so
 * the EV's modem joins our logical network once it has the key from CM_SLAC_MATCH.CNF.
 *
 * Several EVs may be matching at once: on a shared cable duct a neighbour's EV hears us (crosstalk) and
 * runs its attempt with us too, then picks its own EVSE by attenuation. Attempts are therefore kept per
 * EV MAC, and a neighbour's attempt neither disturbs nor fails ours.
 */
import { traceSlac } from '../trace/publish.js';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Bus, Logger } from '@opensecc/plugin-api';
import { decodeFrame, encodeFrame, type DecodedFrame, type SlacDecodeError, QCA_REQUEST } from './codec.js';
import {
  C_EV_MATCH_MNBC,
  C_EV_MATCH_RETRY,
  MAX_ATTENUATION_GROUPS,
  SLAC_MATCH_CNF_MVF_LENGTH,
  STATION_ID_LENGTH,
  VALIDATE_RESULT,
  resolveTimers,
  type SlacTimers,
} from './constants.js';
import { isPluggedIn, type CpState, type SlacControlPilot } from './control-pilot.js';
import { generateSessionKeys, type RandomSource, type SessionKeys } from './keys.js';
import type { SlacLink } from './link.js';
import { BROADCAST_MAC, QCA_LOCAL_MAC, normalizeMac } from './mac.js';
import type { MessageFields, MessageName, MessageOf } from './messages.js';
import { SLAC_MATCH_TOPIC, SLAC_STATE_TOPIC, type SlacEvseState, type SlacMatchReport } from './topics.js';

export interface SlacEvseOptions {
  readonly link: SlacLink;
  readonly log: Logger;
  /** Where ci/slac/state and ci/slac/match are published. */
  readonly bus?: Bus;
  /**
   * The control pilot. With it, a SLAC session starts when a vehicle is plugged in (B/C/D) and ends on
   * A, E or F. Without it the EVSE listens for CM_SLAC_PARM.REQ all the time (simulated board, bench tests).
   */
  readonly controlPilot?: SlacControlPilot;
  /** EVSE ID for CM_SLAC_MATCH.CNF: 17 bytes as hex (default all zeros, as most EVSEs send). */
  readonly evseId?: string;
  readonly timers?: Partial<SlacTimers>;
  /** Sounds asked for in CM_SLAC_PARM.CNF (C_EV_match_MNBC, default 10). */
  readonly numSounds?: number;
  /** Where CM_SET_KEY.REQ goes: the local modem (default the Qualcomm local address 00:b0:52:00:00:01). */
  readonly modemAddress?: string;
  /** Send CM_SET_KEY.REQ with the session's NMK/NID to the modem (default true). */
  readonly setKey?: boolean;
  /**
   * Attenuation (dB, per group) reported when the modem sent no CM_ATTEN_PROFILE.IND but the EV's sounds
   * arrived: the case of a simulation or a veth link without a modem. Default 10.
   */
  readonly fallbackAttenuationDb?: number;
  /** Matching attempts of one EV per plug-in session before SLAC fails for good (default 1 + C_EV_match_retry = 3). */
  readonly maxAttempts?: number;
  /** Poll the Qualcomm modem's link status after the match until the EV joined (TT_match_join). Default false. */
  readonly checkLink?: boolean;
  /** Close the link when the EVSE is stopped (set by SlacEvse.open). */
  readonly ownsLink?: boolean;
  readonly random?: RandomSource;
}

export interface SlacEvseEvents {
  state: [state: SlacEvseState];
  /** A vehicle started a matching attempt (CM_SLAC_PARM.REQ accepted). */
  session: [info: { evMac: string; runId: string; attempt: number }];
  /** Matched or failed for good. */
  result: [report: SlacMatchReport];
  /** The EV's modem joined our network (only with checkLink). */
  link: [info: { evMac: string; up: boolean }];
  /** A malformed frame was dropped. */
  dropped: [info: { error: SlacDecodeError; frame: Buffer }];
}

type AttemptPhase = 'sounding' | 'matching' | 'matched';

/** One EV's matching attempt (one RunID). */
interface Attempt {
  readonly evMac: string;
  readonly runId: string;
  /** 1 for the EV's first attempt in this plug-in session, 2 for its first retry, ... */
  readonly number: number;
  phase: AttemptPhase;
  soundingStarted: boolean;
  sounds: number;
  profiles: number;
  readonly aagSums: number[];
  attenCharSent: number;
  attenuation?: { numSounds: number; aag: number[]; averageDb: number | null; fromModem: boolean };
  rspReceived: boolean;
  matchCnf?: Buffer;
  timer?: NodeJS.Timeout;
  graceTimer?: NodeJS.Timeout;
}

/** Where the plug-in session is: no vehicle, SLAC possible, or given up until the vehicle is unplugged. */
type PlugPhase = 'idle' | 'active' | 'failed';

const ZERO_STATION_ID = '00'.repeat(STATION_ID_LENGTH);

export class SlacEvse extends EventEmitter<SlacEvseEvents> {
  readonly #link: SlacLink;
  readonly #log: Logger;
  readonly #bus: Bus | undefined;
  readonly #cp: SlacControlPilot | undefined;
  readonly #timers: SlacTimers;
  readonly #evseId: string;
  readonly #numSounds: number;
  readonly #modemAddress: string;
  readonly #setKey: boolean;
  readonly #fallbackDb: number;
  readonly #maxAttempts: number;
  readonly #checkLink: boolean;
  readonly #ownsLink: boolean;
  readonly #random: RandomSource;

  #state: SlacEvseState = 'idle';
  #running = false;
  #unsubscribe: Array<() => void> = [];
  #plug: PlugPhase = 'idle';
  #keys: SessionKeys | undefined;
  /** Running attempts by EV MAC. */
  readonly #attempts = new Map<string, Attempt>();
  #matched: Attempt | undefined;
  /** Per EV MAC in this plug-in session: attempts started and attempts failed. */
  readonly #started = new Map<string, number>();
  readonly #failed = new Map<string, number>();
  #initTimer: NodeJS.Timeout | undefined;
  #linkTimer: NodeJS.Timeout | undefined;
  #lastReport: SlacMatchReport | undefined;
  #droppedFrames = 0;

  /** Opens a raw socket on a Linux interface and returns an EVSE that owns it (closed by stop()). */
  static async open(iface: string, options: Omit<SlacEvseOptions, 'link' | 'ownsLink'>): Promise<SlacEvse> {
    const { openRawLink } = await import('./raw-link.js');
    const link = await openRawLink(iface);
    return new SlacEvse({ ...options, link, ownsLink: true });
  }

  constructor(options: SlacEvseOptions) {
    super();
    this.#link = options.link;
    this.#log = options.log.child({ module: 'slac', role: 'evse', iface: options.link.name });
    this.#bus = options.bus;
    this.#cp = options.controlPilot;
    this.#timers = resolveTimers(options.timers);
    this.#evseId = options.evseId ?? ZERO_STATION_ID;
    if (!/^[0-9a-f]{34}$/i.test(this.#evseId)) throw new RangeError(`evseId must be 17 bytes of hex, got '${this.#evseId}'`);
    this.#numSounds = options.numSounds ?? C_EV_MATCH_MNBC;
    if (!Number.isInteger(this.#numSounds) || this.#numSounds < 1 || this.#numSounds > 255) {
      throw new RangeError(`numSounds must be an integer 1..255, got ${this.#numSounds}`);
    }
    this.#modemAddress = normalizeMac(options.modemAddress ?? QCA_LOCAL_MAC);
    this.#setKey = options.setKey ?? true;
    this.#fallbackDb = options.fallbackAttenuationDb ?? 10;
    this.#maxAttempts = options.maxAttempts ?? 1 + C_EV_MATCH_RETRY;
    this.#checkLink = options.checkLink ?? false;
    this.#ownsLink = options.ownsLink ?? false;
    this.#random = options.random ?? randomBytes;
  }

  get state(): SlacEvseState {
    return this.#state;
  }

  get mac(): string {
    return this.#link.mac;
  }

  /** The NID of the current plug-in session's network (undefined while idle). */
  get nid(): string | undefined {
    return this.#keys?.nid;
  }

  /** The EV we are matched with, if any. */
  get matchedEv(): string | undefined {
    return this.#matched?.evMac;
  }

  get lastResult(): SlacMatchReport | undefined {
    return this.#lastReport;
  }

  get droppedFrames(): number {
    return this.#droppedFrames;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe.push(this.#link.onFrame((frame) => this.#onFrame(frame)));
    this.#unsubscribe.push(this.#link.onError((error) => this.#log.error({ err: error.message }, 'SLAC link error')));
    this.#log.info({ evseMac: this.mac, controlPilot: Boolean(this.#cp) }, 'SLAC EVSE started');
    this.#publish(SLAC_STATE_TOPIC, this.#state);
    if (this.#cp) {
      this.#unsubscribe.push(this.#cp.onStateChange((state) => this.#onCpState(state)));
      if (isPluggedIn(this.#cp.state())) this.#beginPlugSession(`control pilot in state ${this.#cp.state()}`);
    } else {
      this.#beginPlugSession('no control pilot: listening for any EV');
    }
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const undo of this.#unsubscribe.splice(0)) undo();
    this.#resetSession();
    this.#plug = 'idle';
    this.#refreshState();
    if (this.#ownsLink) this.#link.close();
    this.#log.info('SLAC EVSE stopped');
  }

  // ---- control pilot and plug-in session -----------------------------------------------------------

  #onCpState(state: CpState): void {
    if (!this.#running) return;
    if (isPluggedIn(state)) {
      if (this.#plug === 'idle') this.#beginPlugSession(`control pilot ${state}: vehicle connected`);
      else this.#log.debug({ cp: state }, 'control pilot changed within the plug-in session');
      return;
    }
    if (this.#plug === 'idle') return;
    this.#endPlugSession(state === 'A' ? 'control pilot A: vehicle unplugged' : `control pilot ${state}: error state, SLAC session aborted`);
  }

  #beginPlugSession(reason: string): void {
    this.#resetSession();
    this.#keys = generateSessionKeys(this.#random);
    this.#plug = 'active';
    this.#log.info({ reason, nid: this.#keys.nid }, 'SLAC session started with a new NMK/NID');
    this.#cp?.requestFivePercent();
    if (this.#setKey) this.#sendSetKey(this.#keys);
    this.#refreshState();
  }

  #endPlugSession(reason: string): void {
    const evMac = this.#matched?.evMac;
    this.#resetSession();
    this.#plug = 'idle';
    this.#log.info({ reason, evMac }, 'SLAC session ended');
    this.#refreshState();
  }

  /** Forgets every attempt, key and counter of the plug-in session and stops all timers. */
  #resetSession(): void {
    for (const attempt of this.#attempts.values()) this.#clearAttemptTimers(attempt);
    this.#attempts.clear();
    this.#matched = undefined;
    this.#started.clear();
    this.#failed.clear();
    this.#keys = undefined;
    clearTimeout(this.#initTimer);
    clearTimeout(this.#linkTimer);
    this.#initTimer = undefined;
    this.#linkTimer = undefined;
  }

  #sendSetKey(keys: SessionKeys): void {
    this.#send(this.#modemAddress, 'CM_SET_KEY.REQ', {
      keyType: 1, // NMK
      myNonce: this.#random(4).toString('hex'),
      yourNonce: '00000000',
      pid: 4, // HLE protocol
      prn: 0,
      pmn: 0,
      ccoCapability: 0,
      nid: keys.nid,
      newEks: 1,
      newKey: keys.nmk,
    });
    this.#log.info({ modem: this.#modemAddress, nid: keys.nid }, 'CM_SET_KEY.REQ sent: NMK/NID of this session to the local modem');
  }

  // ---- frames -------------------------------------------------------------------------------------

  #onFrame(raw: Buffer): void {
    if (!this.#running) return;
    if (this.#bus) traceSlac(this.#bus, { direction: 'rx', bytes: raw });
    const decoded = decodeFrame(raw);
    if (!decoded.ok) {
      this.#droppedFrames++;
      this.#log.warn({ error: decoded.error.reason, at: decoded.error.at, frame: raw.subarray(0, 64).toString('hex') }, 'dropped a malformed HomePlug frame');
      this.emit('dropped', { error: decoded.error, frame: raw });
      return;
    }
    const frame = decoded.frame;
    if (frame.src === this.mac) return;
    if (frame.dst !== this.mac && frame.dst !== BROADCAST_MAC) {
      // e.g. the EV host's CM_SET_KEY.REQ to its own modem, or traffic between other stations.
      this.#log.debug({ name: frame.name, src: frame.src, dst: frame.dst }, 'ignored a frame addressed to another station');
      return;
    }
    const message = frame.message;
    if (!message) {
      this.#log.debug({ name: frame.name, src: frame.src }, 'ignored a HomePlug frame');
      return;
    }
    switch (message.name) {
      case 'CM_SLAC_PARM.REQ':
        return this.#onParmReq(frame, message);
      case 'CM_START_ATTEN_CHAR.IND':
        return this.#onStartAttenChar(frame, message);
      case 'CM_MNBC_SOUND.IND':
        return this.#onSound(frame, message);
      case 'CM_ATTEN_PROFILE.IND':
        return this.#onProfile(message);
      case 'CM_ATTEN_CHAR.RSP':
        return this.#onAttenCharRsp(frame, message);
      case 'CM_VALIDATE.REQ':
        return this.#onValidateReq(frame, message);
      case 'CM_SLAC_MATCH.REQ':
        return this.#onMatchReq(frame, message);
      case 'CM_SET_KEY.CNF':
        if (frame.dst === this.mac) this.#log.info({ modem: frame.src, result: message.result }, 'CM_SET_KEY.CNF from the local modem');
        return;
      case 'VS_PL_LNK_STATUS.CNF':
        return this.#onLinkStatus(message);
      default:
        // Requests meant for a modem (CM_SET_KEY.REQ, CM_GET_KEY.REQ, VS_*) and the EVSE's own answers echoed by peers.
        this.#log.debug({ name: frame.name, src: frame.src }, 'ignored a HomePlug message that is not for the EVSE');
    }
  }

  #onParmReq(frame: DecodedFrame, req: MessageOf<'CM_SLAC_PARM.REQ'>): void {
    const evMac = frame.src;
    const log = { evMac, runId: req.runId, state: this.#state };
    if (this.#plug === 'idle') {
      this.#log.debug(log, 'CM_SLAC_PARM.REQ ignored: no vehicle connected');
      return;
    }
    if (this.#plug === 'failed') {
      this.#log.info(log, 'CM_SLAC_PARM.REQ ignored: SLAC failed in this plug-in session (unplug to retry)');
      return;
    }
    if (req.applicationType !== 0 || req.securityType !== 0) {
      this.#log.warn({ ...log, applicationType: req.applicationType, securityType: req.securityType }, 'CM_SLAC_PARM.REQ ignored: only PEV-EVSE matching without security is supported');
      return;
    }
    const matched = this.#matched;
    if (matched && matched.evMac !== evMac && this.#cp) {
      // Matched with the vehicle on our cable: another EV's request can only be crosstalk from a neighbour.
      this.#log.info({ ...log, matchedEv: matched.evMac }, 'CM_SLAC_PARM.REQ from another EV ignored: already matched');
      return;
    }
    if ((this.#failed.get(evMac) ?? 0) >= this.#maxAttempts) {
      this.#log.info(log, 'CM_SLAC_PARM.REQ ignored: this EV used up its attempts');
      return;
    }
    const current = this.#attempts.get(evMac);
    if (current && current.runId === req.runId && current.phase === 'sounding' && !current.soundingStarted) {
      // The EV repeats its request when our CNF got lost: answer again, same attempt.
      this.#log.info(log, 'CM_SLAC_PARM.REQ repeated: CM_SLAC_PARM.CNF sent again');
      this.#sendParmCnf(current);
      return;
    }
    if (matched && !this.#cp) {
      // Without a control pilot a request after a match means a new vehicle (or a new start): new network key.
      this.#log.info({ ...log, previousEv: matched.evMac }, 'CM_SLAC_PARM.REQ after a match: new session');
      this.#beginPlugSession('new CM_SLAC_PARM.REQ after a match (no control pilot)');
    } else if (matched) {
      // Our vehicle starts over (e.g. its modem lost the network): same session key, new attempt.
      this.#log.warn(log, 'the matched EV starts SLAC again');
      this.#matched = undefined;
      this.#attempts.delete(evMac);
      clearTimeout(this.#linkTimer);
    } else if (current) {
      // The EV gave up on its running attempt and retries: that attempt counts as failed.
      if (this.#attemptFailed(current, `the EV started a new attempt (RunID ${req.runId})`, false)) return;
    }

    const number = (this.#started.get(evMac) ?? 0) + 1;
    this.#started.set(evMac, number);
    const attempt: Attempt = {
      evMac,
      runId: req.runId,
      number,
      phase: 'sounding',
      soundingStarted: false,
      sounds: 0,
      profiles: 0,
      aagSums: [],
      attenCharSent: 0,
      rspReceived: false,
    };
    this.#attempts.set(evMac, attempt);
    this.#log.info({ evMac, runId: req.runId, attempt: number }, 'CM_SLAC_PARM.REQ received: matching attempt started');
    this.emit('session', { evMac, runId: req.runId, attempt: number });
    this.#sendParmCnf(attempt);
    this.#armAttempt(attempt, this.#timers.matchSequenceMs, () => this.#attemptFailed(attempt, `no CM_START_ATTEN_CHAR.IND within TT_match_sequence (${this.#timers.matchSequenceMs} ms)`));
    this.#refreshState();
  }

  #sendParmCnf(attempt: Attempt): void {
    this.#send(attempt.evMac, 'CM_SLAC_PARM.CNF', {
      mSoundTarget: BROADCAST_MAC,
      numSounds: this.#numSounds,
      timeOut: Math.max(1, Math.round(this.#timers.evseMatchMnbcMs / 100)),
      respType: 1, // the EV sends the results to the host (forwarding station)
      forwardingSta: attempt.evMac,
      applicationType: 0,
      securityType: 0,
      runId: attempt.runId,
    });
    this.#log.info({ evMac: attempt.evMac, runId: attempt.runId, numSounds: this.#numSounds }, 'CM_SLAC_PARM.CNF sent');
  }

  /** The EV's attempt in the given phase that a message belongs to, or undefined (logged) when none. */
  #attemptFor(evMac: string, runId: string, phase: AttemptPhase, what: string): Attempt | undefined {
    const attempt = this.#attempts.get(evMac);
    if (!attempt || attempt.phase !== phase) {
      this.#log.debug({ evMac, runId, phase: attempt?.phase }, `${what} ignored: no attempt of this EV waiting for it`);
      return undefined;
    }
    if (runId !== attempt.runId) {
      this.#log.warn({ evMac, runId, expected: attempt.runId }, `${what} ignored: RunID mismatch`);
      return undefined;
    }
    return attempt;
  }

  #onStartAttenChar(frame: DecodedFrame, ind: MessageOf<'CM_START_ATTEN_CHAR.IND'>): void {
    const attempt = this.#attemptFor(frame.src, ind.runId, 'sounding', 'CM_START_ATTEN_CHAR.IND');
    if (!attempt || attempt.soundingStarted) return;
    this.#startSounding(attempt, `CM_START_ATTEN_CHAR.IND (numSounds ${ind.numSounds}, timeOut ${ind.timeOut})`);
  }

  #startSounding(attempt: Attempt, trigger: string): void {
    attempt.soundingStarted = true;
    this.#log.info({ evMac: attempt.evMac, runId: attempt.runId, trigger }, 'sounding started');
    this.#armAttempt(attempt, this.#timers.evseMatchMnbcMs, () => this.#finishSounding(attempt, 'TT_EVSE_match_MNBC expired'));
  }

  #onSound(frame: DecodedFrame, sound: MessageOf<'CM_MNBC_SOUND.IND'>): void {
    const attempt = this.#attemptFor(frame.src, sound.runId, 'sounding', 'CM_MNBC_SOUND.IND');
    if (!attempt) return;
    if (!attempt.soundingStarted) this.#startSounding(attempt, 'CM_MNBC_SOUND.IND (CM_START_ATTEN_CHAR.IND missed)');
    attempt.sounds++;
    this.#log.debug({ evMac: attempt.evMac, cnt: sound.cnt, sounds: attempt.sounds }, 'CM_MNBC_SOUND.IND');
    if (attempt.sounds >= this.#numSounds && attempt.profiles >= this.#numSounds) {
      this.#finishSounding(attempt, 'all sounds and profiles received');
    } else if (sound.cnt === 0 || attempt.sounds >= this.#numSounds) {
      // The last sound: give the modem a moment for its last profile, then answer well within the EV's timeout.
      clearTimeout(attempt.graceTimer);
      attempt.graceTimer = setTimeout(() => this.#finishSounding(attempt, 'last sound received'), this.#timers.soundingGraceMs);
    }
  }

  #onProfile(profile: MessageOf<'CM_ATTEN_PROFILE.IND'>): void {
    const attempt = this.#attempts.get(profile.pevMac);
    if (!attempt || attempt.phase !== 'sounding') return;
    if (profile.numGroups === 0) {
      this.#log.debug({ evMac: attempt.evMac }, 'CM_ATTEN_PROFILE.IND without groups ignored');
      return;
    }
    attempt.profiles++;
    const groups = Math.min(profile.aag.length, MAX_ATTENUATION_GROUPS);
    for (let i = 0; i < groups; i++) attempt.aagSums[i] = (attempt.aagSums[i] ?? 0) + profile.aag[i]!;
    if (attempt.profiles >= this.#numSounds && attempt.sounds >= this.#numSounds) this.#finishSounding(attempt, 'all sounds and profiles received');
  }

  #finishSounding(attempt: Attempt, why: string): void {
    if (attempt.phase !== 'sounding' || this.#attempts.get(attempt.evMac) !== attempt) return;
    this.#clearAttemptTimers(attempt);
    if (attempt.sounds === 0 && attempt.profiles === 0) {
      this.#attemptFailed(attempt, `no CM_MNBC_SOUND.IND (${why})`);
      return;
    }
    let aag: number[];
    let numSounds: number;
    const fromModem = attempt.profiles > 0;
    if (fromModem) {
      aag = attempt.aagSums.map((sum) => Math.round(sum / attempt.profiles));
      numSounds = attempt.profiles;
    } else {
      this.#log.warn({ evMac: attempt.evMac, sounds: attempt.sounds, fallbackDb: this.#fallbackDb }, 'no CM_ATTEN_PROFILE.IND from the local modem (no modem on this link?): reporting the fallback attenuation');
      aag = new Array<number>(MAX_ATTENUATION_GROUPS).fill(this.#fallbackDb);
      numSounds = attempt.sounds;
    }
    const averageDb = aag.length ? Math.round((aag.reduce((a, b) => a + b, 0) / aag.length) * 10) / 10 : null;
    attempt.attenuation = { numSounds, aag, averageDb, fromModem };
    this.#log.info({ evMac: attempt.evMac, runId: attempt.runId, why, sounds: attempt.sounds, profiles: attempt.profiles, numGroups: aag.length, averageDb, profile: aag }, 'sounding finished: attenuation profile');
    attempt.phase = 'matching';
    this.#refreshState();
    this.#sendAttenChar(attempt);
  }

  #sendAttenChar(attempt: Attempt): void {
    const attenuation = attempt.attenuation!;
    attempt.attenCharSent++;
    this.#send(attempt.evMac, 'CM_ATTEN_CHAR.IND', {
      applicationType: 0,
      securityType: 0,
      sourceAddress: attempt.evMac,
      runId: attempt.runId,
      sourceId: ZERO_STATION_ID,
      respId: ZERO_STATION_ID,
      numSounds: Math.min(attenuation.numSounds, 255),
      numGroups: attenuation.aag.length,
      aag: attenuation.aag,
    });
    this.#log.info({ evMac: attempt.evMac, runId: attempt.runId, transmission: attempt.attenCharSent }, 'CM_ATTEN_CHAR.IND sent');
    this.#armAttempt(attempt, this.#timers.matchResponseMs, () => {
      if (attempt.attenCharSent < 1 + C_EV_MATCH_RETRY) this.#sendAttenChar(attempt);
      else this.#attemptFailed(attempt, `no CM_ATTEN_CHAR.RSP within TT_match_response after ${attempt.attenCharSent} transmissions`);
    });
  }

  #onAttenCharRsp(frame: DecodedFrame, rsp: MessageOf<'CM_ATTEN_CHAR.RSP'>): void {
    const attempt = this.#attemptFor(frame.src, rsp.runId, 'matching', 'CM_ATTEN_CHAR.RSP');
    if (!attempt || attempt.rspReceived) return;
    if (rsp.result !== 0) {
      this.#attemptFailed(attempt, `the EV rejected the attenuation characterization (CM_ATTEN_CHAR.RSP result ${rsp.result})`);
      return;
    }
    attempt.rspReceived = true;
    this.#log.info({ evMac: attempt.evMac, runId: attempt.runId }, 'CM_ATTEN_CHAR.RSP received: waiting for CM_SLAC_MATCH.REQ');
    this.#armAttempt(attempt, this.#timers.evseMatchSessionMs, () =>
      this.#attemptFailed(attempt, `no CM_SLAC_MATCH.REQ within TT_EVSE_match_session (${this.#timers.evseMatchSessionMs} ms)`),
    );
  }

  #onValidateReq(frame: DecodedFrame, req: MessageOf<'CM_VALIDATE.REQ'>): void {
    const attempt = this.#attempts.get(frame.src);
    if (!attempt || attempt.phase !== 'matching') return;
    // This EVSE cannot toggle the control pilot for validation: tell the EV it is not required.
    this.#send(attempt.evMac, 'CM_VALIDATE.CNF', { signalType: req.signalType, toggleNum: 0, result: VALIDATE_RESULT.notRequired });
    this.#log.info({ evMac: attempt.evMac }, 'CM_VALIDATE.REQ answered: validation not required');
  }

  #onMatchReq(frame: DecodedFrame, req: MessageOf<'CM_SLAC_MATCH.REQ'>): void {
    const evMac = this.#attempts.has(frame.src) ? frame.src : req.pevMac;
    const attempt = this.#attempts.get(evMac);
    if (!attempt || (attempt.phase !== 'matching' && attempt.phase !== 'matched')) {
      this.#log.debug({ src: frame.src, runId: req.runId }, 'CM_SLAC_MATCH.REQ ignored: no attempt of this EV waiting for it');
      return;
    }
    if (req.runId !== attempt.runId) {
      this.#log.warn({ evMac, runId: req.runId, expected: attempt.runId }, 'CM_SLAC_MATCH.REQ ignored: RunID mismatch');
      return;
    }
    if (attempt.phase === 'matched' && attempt.matchCnf) {
      this.#transmit(attempt.matchCnf, 'CM_SLAC_MATCH.CNF', evMac);
      this.#log.info({ evMac }, 'CM_SLAC_MATCH.REQ repeated: CM_SLAC_MATCH.CNF sent again');
      return;
    }
    if (req.evseMac !== this.mac) {
      this.#log.warn({ evMac, evseMac: req.evseMac }, 'CM_SLAC_MATCH.REQ names another EVSE MAC; answering since it was sent to us');
    }
    const keys = this.#keys!;
    attempt.matchCnf = this.#send(evMac, 'CM_SLAC_MATCH.CNF', {
      applicationType: 0,
      securityType: 0,
      mvfLength: SLAC_MATCH_CNF_MVF_LENGTH,
      pevId: req.pevId,
      pevMac: req.pevMac,
      evseId: this.#evseId,
      evseMac: this.mac,
      runId: attempt.runId,
      reserved: '0000000000000000',
      nid: keys.nid,
      reserved2: 0,
      nmk: keys.nmk,
    });
    this.#clearAttemptTimers(attempt);
    attempt.phase = 'matched';
    this.#matched = attempt;
    // Attempts of other EVs (crosstalk) end here: our vehicle has its network.
    for (const other of [...this.#attempts.values()]) {
      if (other === attempt) continue;
      this.#clearAttemptTimers(other);
      this.#attempts.delete(other.evMac);
      this.#log.info({ evMac: other.evMac }, 'attempt of another EV dropped: matched with ' + evMac);
    }
    this.#log.info({ evMac, runId: attempt.runId, nid: keys.nid, attempt: attempt.number }, 'CM_SLAC_MATCH.CNF sent: matched');
    this.#refreshState();
    this.#report('matched', attempt);
    if (this.#checkLink) this.#pollLink(attempt);
  }

  // ---- link status (Qualcomm) -------------------------------------------------------------------------

  #pollLink(attempt: Attempt): void {
    const deadline = Date.now() + this.#timers.matchJoinMs;
    // Twice a second, or more often when TT_match_join is shortened (tests).
    const interval = Math.max(10, Math.min(500, this.#timers.matchJoinMs / 10));
    const poll = () => {
      if (this.#matched !== attempt) return;
      if (Date.now() > deadline) {
        this.#linkTimer = undefined;
        this.#log.warn({ evMac: attempt.evMac }, 'the EV did not join the network within TT_match_join');
        this.emit('link', { evMac: attempt.evMac, up: false });
        return;
      }
      this.#send(this.#modemAddress, 'VS_PL_LNK_STATUS.REQ', QCA_REQUEST);
      this.#linkTimer = setTimeout(poll, interval);
    };
    poll();
  }

  #onLinkStatus(cnf: MessageOf<'VS_PL_LNK_STATUS.CNF'>): void {
    const attempt = this.#matched;
    if (!this.#linkTimer || !attempt) return;
    if (cnf.status === 0 && cnf.linkStatus === 1) {
      clearTimeout(this.#linkTimer);
      this.#linkTimer = undefined;
      this.#log.info({ evMac: attempt.evMac }, 'powerline link up: the EV joined the network');
      this.emit('link', { evMac: attempt.evMac, up: true });
    }
  }

  // ---- timeouts and results ---------------------------------------------------------------------------

  /** One timer per attempt step: arming a new one cancels the previous. */
  #armAttempt(attempt: Attempt, ms: number, onExpire: () => void): void {
    clearTimeout(attempt.timer);
    attempt.timer = setTimeout(() => {
      attempt.timer = undefined;
      if (this.#attempts.get(attempt.evMac) === attempt) onExpire();
    }, ms);
  }

  #clearAttemptTimers(attempt: Attempt): void {
    clearTimeout(attempt.timer);
    clearTimeout(attempt.graceTimer);
    attempt.timer = undefined;
    attempt.graceTimer = undefined;
  }

  /**
   * Ends an attempt as failed; returns true when that made SLAC fail for good. `refresh` false: the caller
   * starts the EV's next attempt at once, so the state does not pass through waiting_for_parm.
   */
  #attemptFailed(attempt: Attempt, reason: string, refresh = true): boolean {
    this.#clearAttemptTimers(attempt);
    if (this.#attempts.get(attempt.evMac) === attempt) this.#attempts.delete(attempt.evMac);
    const failures = (this.#failed.get(attempt.evMac) ?? 0) + 1;
    this.#failed.set(attempt.evMac, failures);
    this.#log.warn({ evMac: attempt.evMac, runId: attempt.runId, attempt: attempt.number, failures, reason }, 'SLAC matching attempt failed');
    if (failures >= this.#maxAttempts && this.#attempts.size === 0 && !this.#matched) {
      this.#failFinally(`${reason}; ${failures} attempts of ${attempt.evMac} failed`, attempt);
      return true;
    }
    if (failures < this.#maxAttempts) {
      this.#log.info({ evMac: attempt.evMac, remaining: this.#maxAttempts - failures }, 'waiting for the EV to retry (CM_SLAC_PARM.REQ)');
    }
    if (refresh) this.#refreshState();
    return false;
  }

  #failFinally(reason: string, attempt?: Attempt): void {
    for (const running of this.#attempts.values()) this.#clearAttemptTimers(running);
    this.#attempts.clear();
    clearTimeout(this.#initTimer);
    this.#initTimer = undefined;
    this.#log.error({ evMac: attempt?.evMac, runId: attempt?.runId, reason }, 'SLAC failed');
    this.#plug = 'failed';
    this.#refreshState();
    this.#report('failed', attempt, reason);
    this.#cp?.slacFailed?.(reason);
    if (!this.#cp) {
      // Nothing will unplug: start over with a fresh session so the next EV can match.
      this.#beginPlugSession('restart after failure (no control pilot)');
    }
  }

  /**
   * Derives the published state from the plug-in session and the attempts, and keeps TT_EVSE_SLAC_init
   * running exactly while a connected vehicle has no attempt going (at plug-in and after a failed attempt).
   */
  #refreshState(): void {
    let state: SlacEvseState;
    if (this.#plug === 'idle') state = 'idle';
    else if (this.#plug === 'failed') state = 'failed';
    else if (this.#matched) state = 'matched';
    else {
      const phases = [...this.#attempts.values()].map((a) => a.phase);
      state = phases.includes('matching') ? 'matching' : phases.includes('sounding') ? 'sounding' : 'waiting_for_parm';
    }
    const waiting = state === 'waiting_for_parm' && this.#cp !== undefined;
    if (waiting && !this.#initTimer) {
      this.#initTimer = setTimeout(() => {
        this.#initTimer = undefined;
        const last = [...this.#failed.keys()].pop();
        this.#failFinally(`no CM_SLAC_PARM.REQ within TT_EVSE_SLAC_init (${this.#timers.evseSlacInitMs} ms)`, last ? this.#lastAttemptOf(last) : undefined);
      }, this.#timers.evseSlacInitMs);
    } else if (!waiting && this.#initTimer) {
      clearTimeout(this.#initTimer);
      this.#initTimer = undefined;
    }
    if (state === this.#state) return;
    this.#state = state;
    this.#log.info({ state, evMac: this.#matched?.evMac }, 'SLAC state');
    this.#publish(SLAC_STATE_TOPIC, state);
    this.emit('state', state);
  }

  /** A stand-in for the report of an EV whose attempts all ended (only its MAC and attempt count matter). */
  #lastAttemptOf(evMac: string): Attempt {
    return { evMac, runId: '', number: this.#started.get(evMac) ?? 0, phase: 'sounding', soundingStarted: false, sounds: 0, profiles: 0, aagSums: [], attenCharSent: 0, rspReceived: false };
  }

  #report(result: 'matched' | 'failed', attempt: Attempt | undefined, reason?: string): void {
    const attenuation = attempt?.attenuation;
    const report: SlacMatchReport = {
      result,
      timestamp: new Date().toISOString(),
      ev_mac: attempt?.evMac ?? null,
      evse_mac: this.mac,
      run_id: attempt?.runId || null,
      nid: result === 'matched' ? (this.#keys?.nid ?? null) : null,
      attenuation: attenuation
        ? { num_sounds: attenuation.numSounds, num_groups: attenuation.aag.length, average_db: attenuation.averageDb, profile: attenuation.aag }
        : null,
      attempts: attempt ? (this.#started.get(attempt.evMac) ?? attempt.number) : 0,
      ...(reason ? { reason } : {}),
    };
    this.#lastReport = report;
    this.#publish(SLAC_MATCH_TOPIC, report);
    this.emit('result', report);
  }

  #publish(topic: string, value: unknown): void {
    if (!this.#bus) return;
    try {
      this.#bus.publish(topic, value);
    } catch (error) {
      this.#log.error({ topic, err: (error as Error).message }, 'cannot publish SLAC state on the bus');
    }
  }

  #send<N extends MessageName>(dst: string, name: N, fields: MessageFields[N]): Buffer {
    const frame = encodeFrame(name, fields, { dst, src: this.mac });
    this.#transmit(frame, name, dst);
    return frame;
  }

  #transmit(frame: Buffer, name: string, dst: string): void {
    try {
      this.#link.send(frame);
      if (this.#bus) traceSlac(this.#bus, { direction: 'tx', bytes: frame });
    } catch (error) {
      this.#log.error({ name, dst, err: (error as Error).message }, 'cannot send SLAC frame');
    }
  }
}
