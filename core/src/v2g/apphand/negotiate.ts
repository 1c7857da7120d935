/**
 * Supported-application-protocol handshake (ISO 15118-2 §8.2, DIN 70121 §9.1): the EV lists the
 * protocols it speaks with a priority; the SECC picks one it implements and answers with its SchemaID.
 */

export const APP_PROTOCOLS = {
  din70121: { namespace: 'urn:din:70121:2012:MsgDef', major: 2, minor: 0, schema: 'din' },
  'iso15118-2': { namespace: 'urn:iso:15118:2:2013:MsgDef', major: 2, minor: 0, schema: 'iso2' },
  'iso15118-20-dc': { namespace: 'urn:iso:std:iso:15118:-20:DC', major: 1, minor: 0, schema: 'iso20-dc' },
  'iso15118-20-ac': { namespace: 'urn:iso:std:iso:15118:-20:AC', major: 1, minor: 0, schema: 'iso20-ac' },
} as const;
export type AppProtocolName = keyof typeof APP_PROTOCOLS;
export const APP_PROTOCOL_NAMES = Object.keys(APP_PROTOCOLS) as AppProtocolName[];

export interface AppProtocolEntry {
  readonly ProtocolNamespace: string;
  readonly VersionNumberMajor: number;
  readonly VersionNumberMinor: number;
  readonly SchemaID: number;
  readonly Priority: number;
}

export interface NegotiationPolicy {
  /** Protocols the SECC implements and offers, most preferred first. */
  readonly protocols: readonly AppProtocolName[];
  /**
   * Whose order wins when the EV offers several the SECC has: 'ev' (its Priority field, the usual
   * reading of the standard) or 'secc' (the order of `protocols`).
   */
  readonly prefer: 'ev' | 'secc';
}

export type NegotiationResult =
  | {
      readonly ok: true;
      readonly protocol: AppProtocolName;
      readonly schemaId: number;
      readonly minorDeviation: boolean;
      readonly response: { supportedAppProtocolRes: { ResponseCode: 'OK_SuccessfulNegotiation' | 'OK_SuccessfulNegotiationWithMinorDeviation'; SchemaID: number } };
    }
  | { readonly ok: false; readonly reason: string; readonly response: { supportedAppProtocolRes: { ResponseCode: 'Failed_NoNegotiation' } } };

export class AppHandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppHandshakeError';
  }
}

/** Validate the decoded request document; throws AppHandshakeError naming the problem. */
export function appProtocolsOf(document: unknown): AppProtocolEntry[] {
  const request = (document as { supportedAppProtocolReq?: { AppProtocol?: unknown } } | undefined)?.supportedAppProtocolReq;
  if (!request) throw new AppHandshakeError('not a supportedAppProtocolReq');
  const list = request.AppProtocol;
  if (!Array.isArray(list) || list.length === 0) throw new AppHandshakeError('supportedAppProtocolReq without AppProtocol entries');
  return list as AppProtocolEntry[];
}

export function negotiate(entries: readonly AppProtocolEntry[], policy: NegotiationPolicy): NegotiationResult {
  const candidates: Array<{ protocol: AppProtocolName; entry: AppProtocolEntry; rank: number }> = [];
  for (const entry of entries) {
    const index = policy.protocols.findIndex((name) => APP_PROTOCOLS[name].namespace === entry.ProtocolNamespace && APP_PROTOCOLS[name].major === entry.VersionNumberMajor);
    if (index < 0) continue;
    candidates.push({ protocol: policy.protocols[index]!, entry, rank: policy.prefer === 'secc' ? index : entry.Priority });
  }
  if (candidates.length === 0) {
    const offered = entries.map((e) => `${e.ProtocolNamespace} ${e.VersionNumberMajor}.${e.VersionNumberMinor}`).join(', ');
    return { ok: false, reason: `no common protocol (EV offers: ${offered})`, response: { supportedAppProtocolRes: { ResponseCode: 'Failed_NoNegotiation' } } };
  }
  candidates.sort((a, b) => a.rank - b.rank);
  const best = candidates[0]!;
  const minorDeviation = best.entry.VersionNumberMinor !== APP_PROTOCOLS[best.protocol].minor;
  return {
    ok: true,
    protocol: best.protocol,
    schemaId: best.entry.SchemaID,
    minorDeviation,
    response: {
      supportedAppProtocolRes: {
        ResponseCode: minorDeviation ? 'OK_SuccessfulNegotiationWithMinorDeviation' : 'OK_SuccessfulNegotiation',
        SchemaID: best.entry.SchemaID,
      },
    },
  };
}

/** The request an EVCC sends for the given protocols (Priority 1 = first). */
export function appProtocolRequest(protocols: readonly AppProtocolName[]): { supportedAppProtocolReq: { AppProtocol: AppProtocolEntry[] } } {
  return {
    supportedAppProtocolReq: {
      AppProtocol: protocols.map((name, i) => ({
        ProtocolNamespace: APP_PROTOCOLS[name].namespace,
        VersionNumberMajor: APP_PROTOCOLS[name].major,
        VersionNumberMinor: APP_PROTOCOLS[name].minor,
        SchemaID: i + 1,
        Priority: i + 1,
      })),
    },
  };
}
