/**
 * The HomePlug AV / Green PHY management messages SLAC uses, as data: MMTYPE, MMV and the field layout.
 * codec.ts walks these layouts to decode and encode; the interfaces below are the typed view of them.
 *
 * Layouts follow ISO 15118-3 Annex A (SLAC), HomePlug AV 1.1 / IEEE 1901 (CM_SET_KEY, CM_GET_KEY,
 * CM_AMP_MAP) and the Qualcomm Atheros vendor MMEs a QCA700x/742x modem needs from its host.
 * Multi-byte integers are little-endian (HomePlug byte order); identifiers, keys and nonces are hex.
 */

export type FieldKind =
  | { readonly t: 'u8' }
  | { readonly t: 'u16' }
  | { readonly t: 'mac' }
  /** Fixed number of bytes, as lowercase hex. */
  | { readonly t: 'hex'; readonly length: number }
  /** One count byte followed by that many one-byte values (attenuation profiles). */
  | { readonly t: 'u8list'; readonly countField: string; readonly max?: number }
  /** A little-endian 16-bit count of 4-bit entries, two per byte, low nibble first (CM_AMP_MAP). */
  | { readonly t: 'nibbles'; readonly countField: string }
  /** One length byte followed by that many bytes of text (NUL padding trimmed). */
  | { readonly t: 'text8' }
  /** Whatever follows, as hex (trailing padding included). Only as the last field. */
  | { readonly t: 'rest' };

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
}

export interface MessageSpec {
  readonly mmtype: number;
  readonly name: string;
  /** The MMV this implementation sends the message with. Decoding accepts any MMV. */
  readonly mmv: number;
  readonly fields: readonly FieldSpec[];
}

const u8 = { t: 'u8' } as const;
const u16 = { t: 'u16' } as const;
const mac = { t: 'mac' } as const;
const hex = (length: number) => ({ t: 'hex', length }) as const;
const f = (name: string, kind: FieldKind): FieldSpec => ({ name, kind });

const appSec = [f('applicationType', u8), f('securityType', u8)];
const oui = f('oui', hex(3));

export const MESSAGE_SPECS: readonly MessageSpec[] = [
  // HomePlug AV key management, used by the host to give its own modem the NMK and NID.
  {
    mmtype: 0x6008, name: 'CM_SET_KEY.REQ', mmv: 1,
    fields: [f('keyType', u8), f('myNonce', hex(4)), f('yourNonce', hex(4)), f('pid', u8), f('prn', u16), f('pmn', u8),
      f('ccoCapability', u8), f('nid', hex(7)), f('newEks', u8), f('newKey', hex(16))],
  },
  {
    mmtype: 0x6009, name: 'CM_SET_KEY.CNF', mmv: 1,
    fields: [f('result', u8), f('myNonce', hex(4)), f('yourNonce', hex(4)), f('pid', u8), f('prn', u16), f('pmn', u8),
      f('ccoCapability', u8)],
  },
  {
    mmtype: 0x600c, name: 'CM_GET_KEY.REQ', mmv: 1,
    fields: [f('requestType', u8), f('requestedKeyType', u8), f('nid', hex(7)), f('myNonce', hex(4)), f('pid', u8),
      f('prn', u16), f('pmn', u8)],
  },
  {
    mmtype: 0x600d, name: 'CM_GET_KEY.CNF', mmv: 1,
    fields: [f('result', u8), f('requestedKeyType', u8), f('myNonce', hex(4)), f('yourNonce', hex(4)), f('nid', hex(7)),
      f('eks', u8), f('pid', u8), f('prn', u16), f('pmn', u8), f('key', hex(16))],
  },
  { mmtype: 0x601c, name: 'CM_AMP_MAP.REQ', mmv: 1, fields: [f('amlen', u16), f('amdata', { t: 'nibbles', countField: 'amlen' })] },
  { mmtype: 0x601d, name: 'CM_AMP_MAP.CNF', mmv: 1, fields: [f('resType', u8)] },
  // ISO 15118-3 SLAC.
  { mmtype: 0x6064, name: 'CM_SLAC_PARM.REQ', mmv: 1, fields: [...appSec, f('runId', hex(8))] },
  {
    mmtype: 0x6065, name: 'CM_SLAC_PARM.CNF', mmv: 1,
    fields: [f('mSoundTarget', mac), f('numSounds', u8), f('timeOut', u8), f('respType', u8), f('forwardingSta', mac),
      ...appSec, f('runId', hex(8))],
  },
  {
    mmtype: 0x606a, name: 'CM_START_ATTEN_CHAR.IND', mmv: 1,
    fields: [...appSec, f('numSounds', u8), f('timeOut', u8), f('respType', u8), f('forwardingSta', mac), f('runId', hex(8))],
  },
  {
    mmtype: 0x606e, name: 'CM_ATTEN_CHAR.IND', mmv: 1,
    fields: [...appSec, f('sourceAddress', mac), f('runId', hex(8)), f('sourceId', hex(17)), f('respId', hex(17)),
      f('numSounds', u8), f('numGroups', u8), f('aag', { t: 'u8list', countField: 'numGroups' })],
  },
  {
    mmtype: 0x606f, name: 'CM_ATTEN_CHAR.RSP', mmv: 1,
    fields: [...appSec, f('sourceAddress', mac), f('runId', hex(8)), f('sourceId', hex(17)), f('respId', hex(17)),
      f('result', u8)],
  },
  {
    mmtype: 0x6076, name: 'CM_MNBC_SOUND.IND', mmv: 1,
    fields: [...appSec, f('senderId', hex(17)), f('cnt', u8), f('runId', hex(8)), f('reserved', hex(8)), f('rnd', hex(16))],
  },
  { mmtype: 0x6078, name: 'CM_VALIDATE.REQ', mmv: 1, fields: [f('signalType', u8), f('timer', u8), f('result', u8)] },
  { mmtype: 0x6079, name: 'CM_VALIDATE.CNF', mmv: 1, fields: [f('signalType', u8), f('toggleNum', u8), f('result', u8)] },
  {
    mmtype: 0x607c, name: 'CM_SLAC_MATCH.REQ', mmv: 1,
    fields: [...appSec, f('mvfLength', u16), f('pevId', hex(17)), f('pevMac', mac), f('evseId', hex(17)), f('evseMac', mac),
      f('runId', hex(8)), f('reserved', hex(8))],
  },
  {
    mmtype: 0x607d, name: 'CM_SLAC_MATCH.CNF', mmv: 1,
    fields: [...appSec, f('mvfLength', u16), f('pevId', hex(17)), f('pevMac', mac), f('evseId', hex(17)), f('evseMac', mac),
      f('runId', hex(8)), f('reserved', hex(8)), f('nid', hex(7)), f('reserved2', u8), f('nmk', hex(16))],
  },
  {
    mmtype: 0x6086, name: 'CM_ATTEN_PROFILE.IND', mmv: 1,
    fields: [f('pevMac', mac), f('numGroups', u8), f('reserved', u8), f('aag', { t: 'u8list', countField: 'numGroups' })],
  },
  // Qualcomm Atheros vendor-specific MMEs (MMV 0, payload starts with the OUI 00:B0:52).
  { mmtype: 0xa000, name: 'VS_SW_VER.REQ', mmv: 0, fields: [oui] },
  { mmtype: 0xa001, name: 'VS_SW_VER.CNF', mmv: 0, fields: [oui, f('status', u8), f('deviceId', u8), f('version', { t: 'text8' })] },
  { mmtype: 0xa038, name: 'VS_NW_INFO.REQ', mmv: 0, fields: [oui] },
  { mmtype: 0xa039, name: 'VS_NW_INFO.CNF', mmv: 0, fields: [oui, f('data', { t: 'rest' })] },
  { mmtype: 0xa01c, name: 'VS_RS_DEV.REQ', mmv: 0, fields: [oui] },
  { mmtype: 0xa01d, name: 'VS_RS_DEV.CNF', mmv: 0, fields: [oui, f('status', u8)] },
  { mmtype: 0xa0b8, name: 'VS_PL_LNK_STATUS.REQ', mmv: 0, fields: [oui] },
  { mmtype: 0xa0b9, name: 'VS_PL_LNK_STATUS.CNF', mmv: 0, fields: [oui, f('status', u8), f('linkStatus', u8)] },
];

/** Names of the Qualcomm vendor MMEs decoded only generically (OUI + data), for readable output. */
export const QCA_GENERIC_NAMES: ReadonlyMap<number, string> = new Map([
  [0xa030, 'VS_LNK_STATS'],
  [0xa048, 'VS_CP_RPT'],
  [0xa058, 'VS_MFG_STRING'],
  [0xa060, 'VS_HOST_ACTION'],
  [0xa068, 'VS_OP_ATTR'],
  [0xa070, 'VS_ENET_SETTINGS'],
  [0xa074, 'VS_NW_STATS'],
  [0xa0a0, 'VS_SET_LED'],
]);

export const SPECS_BY_MMTYPE: ReadonlyMap<number, MessageSpec> = new Map(MESSAGE_SPECS.map((s) => [s.mmtype, s]));
export const SPECS_BY_NAME: ReadonlyMap<string, MessageSpec> = new Map(MESSAGE_SPECS.map((s) => [s.name, s]));

// ---- Typed views -------------------------------------------------------------------------------------

/** Hex strings: lowercase, no separators. MACs: "aa:bb:cc:dd:ee:ff". */
type Hex = string;
type Mac = string;

interface AppSec {
  applicationType: number;
  securityType: number;
}

export interface MessageFields {
  'CM_SET_KEY.REQ': {
    keyType: number; myNonce: Hex; yourNonce: Hex; pid: number; prn: number; pmn: number; ccoCapability: number;
    nid: Hex; newEks: number; newKey: Hex;
  };
  'CM_SET_KEY.CNF': { result: number; myNonce: Hex; yourNonce: Hex; pid: number; prn: number; pmn: number; ccoCapability: number };
  'CM_GET_KEY.REQ': { requestType: number; requestedKeyType: number; nid: Hex; myNonce: Hex; pid: number; prn: number; pmn: number };
  'CM_GET_KEY.CNF': {
    result: number; requestedKeyType: number; myNonce: Hex; yourNonce: Hex; nid: Hex; eks: number; pid: number; prn: number;
    pmn: number; key: Hex;
  };
  'CM_AMP_MAP.REQ': { amlen: number; amdata: number[] };
  'CM_AMP_MAP.CNF': { resType: number };
  'CM_SLAC_PARM.REQ': AppSec & { runId: Hex };
  'CM_SLAC_PARM.CNF': AppSec & { mSoundTarget: Mac; numSounds: number; timeOut: number; respType: number; forwardingSta: Mac; runId: Hex };
  'CM_START_ATTEN_CHAR.IND': AppSec & { numSounds: number; timeOut: number; respType: number; forwardingSta: Mac; runId: Hex };
  'CM_ATTEN_CHAR.IND': AppSec & {
    sourceAddress: Mac; runId: Hex; sourceId: Hex; respId: Hex; numSounds: number; numGroups: number; aag: number[];
  };
  'CM_ATTEN_CHAR.RSP': AppSec & { sourceAddress: Mac; runId: Hex; sourceId: Hex; respId: Hex; result: number };
  'CM_MNBC_SOUND.IND': AppSec & { senderId: Hex; cnt: number; runId: Hex; reserved: Hex; rnd: Hex };
  'CM_VALIDATE.REQ': { signalType: number; timer: number; result: number };
  'CM_VALIDATE.CNF': { signalType: number; toggleNum: number; result: number };
  'CM_SLAC_MATCH.REQ': AppSec & { mvfLength: number; pevId: Hex; pevMac: Mac; evseId: Hex; evseMac: Mac; runId: Hex; reserved: Hex };
  'CM_SLAC_MATCH.CNF': AppSec & {
    mvfLength: number; pevId: Hex; pevMac: Mac; evseId: Hex; evseMac: Mac; runId: Hex; reserved: Hex; nid: Hex; reserved2: number; nmk: Hex;
  };
  'CM_ATTEN_PROFILE.IND': { pevMac: Mac; numGroups: number; reserved: number; aag: number[] };
  'VS_SW_VER.REQ': { oui: Hex };
  'VS_SW_VER.CNF': { oui: Hex; status: number; deviceId: number; version: string };
  'VS_NW_INFO.REQ': { oui: Hex };
  'VS_NW_INFO.CNF': { oui: Hex; data: Hex };
  'VS_RS_DEV.REQ': { oui: Hex };
  'VS_RS_DEV.CNF': { oui: Hex; status: number };
  'VS_PL_LNK_STATUS.REQ': { oui: Hex };
  'VS_PL_LNK_STATUS.CNF': { oui: Hex; status: number; linkStatus: number };
}

export type MessageName = keyof MessageFields;

/** A decoded message of a known type: its name (the discriminant) and its fields. */
export type SlacMessage = { [N in MessageName]: { readonly name: N } & Readonly<MessageFields[N]> }[MessageName];

/** Narrow a message by name. */
export type MessageOf<N extends MessageName> = Extract<SlacMessage, { name: N }>;
