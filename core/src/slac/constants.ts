/**
 * HomePlug AV / Green PHY management message constants and the ISO 15118-3 SLAC timing.
 */

/** EtherType of HomePlug AV management messages (MMEs). */
export const ETHERTYPE_HOMEPLUG = 0x88e1;
/** Minimum Ethernet frame without FCS. A veth pair does not pad short frames and real peers drop them. */
export const ETHERNET_MIN_FRAME = 60;
export const ETHERNET_HEADER_LENGTH = 14;

/** MMV 1.1 (HomePlug AV 1.1 / Green PHY): the header carries the two fragmentation bytes. */
export const MMV_HOMEPLUG_AV_1_1 = 0x01;
export const MMV_HOMEPLUG_AV_1_0 = 0x00;

/** The two least significant MMTYPE bits. */
export const MM_REQ = 0;
export const MM_CNF = 1;
export const MM_IND = 2;
export const MM_RSP = 3;
export const MM_SUFFIX = ['REQ', 'CNF', 'IND', 'RSP'] as const;

/** Qualcomm Atheros OUI, the first three payload bytes of its vendor-specific MMEs. */
export const QCA_OUI = '00b052';

/** ISO 15118-3 Table A.8: the attenuation profile has at most 58 groups. */
export const MAX_ATTENUATION_GROUPS = 58;
/** Length of the SLAC station identifiers (PEV ID, EVSE ID, SOURCE_ID, RESP_ID). */
export const STATION_ID_LENGTH = 17;
export const RUN_ID_LENGTH = 8;
export const NMK_LENGTH = 16;
export const NID_LENGTH = 7;

/** CM_SLAC_MATCH MVFLength values (bytes after the field). */
export const SLAC_MATCH_REQ_MVF_LENGTH = 0x3e;
export const SLAC_MATCH_CNF_MVF_LENGTH = 0x56;

/** CM_VALIDATE result codes. */
export const VALIDATE_RESULT = { notReady: 0, ready: 1, success: 2, failure: 3, notRequired: 4 } as const;

/**
 * ISO 15118-3 SLAC timers and counters. Tests and the simulator may shorten the timers; the defaults are
 * the standard's values (mid-range where it gives a range).
 */
export interface SlacTimers {
  /** TT_EVSE_SLAC_init: from plug-in (state B) to the first CM_SLAC_PARM.REQ, 20–50 s. */
  readonly evseSlacInitMs: number;
  /** TT_match_sequence: the EVSE's wait for the next message of the sequence (CM_START_ATTEN_CHAR.IND). */
  readonly matchSequenceMs: number;
  /** TT_match_response: the wait for the answer to a request (CNF or RSP). */
  readonly matchResponseMs: number;
  /** TT_EVSE_match_MNBC: the EVSE collects sounds for this long after the first CM_START_ATTEN_CHAR.IND. */
  readonly evseMatchMnbcMs: number;
  /** TT_EV_atten_results: the EV's wait for CM_ATTEN_CHAR.IND after it started sounding. */
  readonly evAttenResultsMs: number;
  /** TT_EVSE_match_session: the EVSE's wait for CM_SLAC_MATCH.REQ (validation may come before it). */
  readonly evseMatchSessionMs: number;
  /** TT_match_join: time for the EV's modem to join the network after the match. */
  readonly matchJoinMs: number;
  /** TP_EV_batch_msg_interval: the EV's interval between CM_START_ATTEN_CHAR.IND and CM_MNBC_SOUND.IND, 20–50 ms. */
  readonly evBatchMsgIntervalMs: number;
  /**
   * Not in the standard: after the last sound (Cnt 0) the EVSE waits this long for its modem's trailing
   * CM_ATTEN_PROFILE.IND before it sends CM_ATTEN_CHAR.IND. Kept short so the IND reaches the EV well
   * within TT_EV_atten_results.
   */
  readonly soundingGraceMs: number;
}

export const DEFAULT_SLAC_TIMERS: SlacTimers = Object.freeze({
  evseSlacInitMs: 40_000,
  matchSequenceMs: 400,
  matchResponseMs: 200,
  evseMatchMnbcMs: 600,
  evAttenResultsMs: 1200,
  evseMatchSessionMs: 10_000,
  matchJoinMs: 12_000,
  evBatchMsgIntervalMs: 40,
  soundingGraceMs: 50,
});

/** C_EV_match_retry: how often the EV repeats a request (and the whole matching) before it gives up. */
export const C_EV_MATCH_RETRY = 2;
/** C_EV_match_MNBC: the number of sounds. */
export const C_EV_MATCH_MNBC = 10;
/** C_EV_start_atten_char_inds: CM_START_ATTEN_CHAR.IND is sent this many times. */
export const C_EV_START_ATTEN_CHAR_INDS = 3;

export function resolveTimers(overrides?: Partial<SlacTimers>): SlacTimers {
  const timers = { ...DEFAULT_SLAC_TIMERS, ...(overrides ?? {}) };
  for (const [key, value] of Object.entries(timers)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`SLAC timer ${key} must be a non-negative number of milliseconds, got ${String(value)}`);
    }
  }
  return timers;
}
