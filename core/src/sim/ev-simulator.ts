/**
 * The simulated EV: SLAC (when given a link), SDP, TCP or TLS, DIN 70121 DC with a battery model —
 * the same code paths a session with a real car takes on the SECC side.
 */
import type { Logger } from '@opensecc/plugin-api';
import { SlacEv, type SlacLink } from '../slac/index.js';
import { DinEvcc, type DinEvccResult } from '../v2g/din/evcc.js';
import { Iso2Evcc, type Iso2EvccResult, type RequestedService } from '../v2g/iso2/evcc.js';
import type { Iso2EvccPncOptions } from '../v2g/iso2/evcc-pnc.js';
import { discoverSecc } from '../v2g/sdp/client.js';
import { V2gtpClient } from '../v2g/transport/client.js';
import { Battery, type BatteryOptions } from './battery.js';
import { SimLinkClient } from './link.js';

/** The vehicle side of the control pilot (hal's SimulatedEv has these). */
export interface EvPilot {
  plugIn(): void;
  requestPower(): void;
  stopPower(): void;
  unplug(): void;
}

export interface EvSimulatorOptions {
  readonly protocol: 'din' | 'iso2';
  /** Energy transfer (ISO 15118-2 only; DIN 70121 is DC). Default dc. */
  readonly mode?: 'dc' | 'ac';
  /** ISO 15118-2: pause at this SoC (SessionStop Pause), sleep `pauseMs`, wake up and resume the same session. */
  readonly pauseAtSoc?: number;
  readonly pauseMs?: number;
  /** ISO 15118-2: renegotiate once on the EV's initiative at this SoC. */
  readonly renegotiateAtSoc?: number;
  /** ISO 15118-2: value-added services to detail and select besides charging. */
  readonly services?: readonly RequestedService[];
  /** SDP target: a unicast address (simulation on one host), else ff02::1 on `iface`. */
  readonly host?: string;
  /** The EV's network interface (real PLC modem or a veth end): SDP multicast, SLAC raw socket. */
  readonly iface?: string;
  readonly sdpPort?: number;
  readonly tls?: boolean;
  /** Trust anchor for the SECC certificate (PEM); without it the certificate is not verified. */
  readonly tlsCa?: Buffer | string;
  /** ISO 15118-2 Plug & Charge credentials (Contract payment). */
  readonly pnc?: Iso2EvccPncOptions;
  readonly battery?: BatteryOptions;
  readonly pilot?: EvPilot;
  /** Run SLAC over this link before SDP. */
  readonly slacLink?: SlacLink;
  /** Attach to the daemon's simulated PLC link + control pilot (`secc start --sim`): SLAC and CP go over it. */
  readonly simLinkPath?: string;
  readonly log: Logger;
  readonly pollMs?: number;
  readonly loopMs?: number;
  /** Progress after every response. */
  readonly onProgress?: (progress: EvProgress) => void;
}

export interface EvProgress {
  readonly step: string;
  readonly soc: number;
  readonly voltage?: number;
  readonly current?: number;
}

/** The one-line summary `secc sim ev` prints last. */
export interface EvSimSummary {
  readonly ok: boolean;
  readonly protocol: 'din' | 'iso2';
  readonly mode: 'dc' | 'ac';
  readonly security: 'tls' | 'none';
  readonly messages: number;
  readonly energy_wh: number;
  readonly initial_soc: number;
  readonly final_soc: number;
  readonly stop_reason: string;
  readonly session_id?: string;
  readonly sequence: string[];
  /** ISO 15118-2: the session was paused and resumed (same SessionID). */
  readonly resumed?: boolean;
  readonly renegotiations?: number;
  /** ISO 15118-2 with --pnc: the contract's eMAID and whether it was installed in the session. */
  readonly emaid?: string;
  readonly contract_installed?: boolean;
  readonly contract_updated?: boolean;
  /** Hex serial number of the contract certificate paid with. */
  readonly contract_serial?: string;
  /** ISO 15118-2 with --services: the value-added services selected (ServiceID, ParameterSetID, ServiceName). */
  readonly selected_services?: ReadonlyArray<{ readonly service_id: number; readonly parameter_set_id?: number; readonly name?: string }>;
}

/** The summary's selected_services from an ISO 15118-2 result ([] before or without a selection). */
function selectedOf(result: DinEvccResult | Iso2EvccResult | undefined): NonNullable<EvSimSummary['selected_services']> {
  if (!result || !('selectedServices' in result)) return [];
  return result.selectedServices.map((s) => ({ service_id: s.serviceId, ...(s.parameterSetId !== undefined ? { parameter_set_id: s.parameterSetId } : {}), ...(s.name !== undefined ? { name: s.name } : {}) }));
}

export async function runEvSimulation(options: EvSimulatorOptions): Promise<EvSimSummary> {
  const log = options.log;
  const battery = new Battery(options.battery);
  const initialSoc = battery.soc();
  const mode = options.protocol === 'iso2' ? (options.mode ?? 'dc') : 'dc';
  const exchanges: DinEvccResult['exchanges'] = [];
  let messages = 0;
  const summary = (ok: boolean, stopReason: string, result?: DinEvccResult | Iso2EvccResult, extra: { resumed?: boolean } = {}): EvSimSummary => ({
    ok,
    protocol: options.protocol,
    mode,
    security: options.tls ? 'tls' : 'none',
    messages: messages + (result?.messages ?? 0),
    energy_wh: Math.round(battery.energy * 10) / 10,
    initial_soc: Math.round(initialSoc * 10) / 10,
    final_soc: Math.round(battery.soc() * 10) / 10,
    stop_reason: stopReason,
    ...(result?.sessionId ? { session_id: result.sessionId } : {}),
    sequence: compress([...exchanges, ...(result?.exchanges ?? [])].map((e) => `${e.request}:${e.code}`)),
    ...(result && 'renegotiations' in result ? { renegotiations: result.renegotiations } : {}),
    ...(result && 'emaid' in result && result.emaid ? { emaid: result.emaid, contract_installed: result.contractInstalled === true, contract_updated: result.contractUpdated === true, ...(result.contractSerial ? { contract_serial: result.contractSerial } : {}) } : {}),
    ...(options.services?.length ? { selected_services: selectedOf(result) } : {}),
    ...extra,
  });

  let simLink: SimLinkClient | undefined;
  if (options.simLinkPath) {
    try {
      simLink = await SimLinkClient.connect(options.simLinkPath);
    } catch (error) {
      return summary(false, (error as Error).message);
    }
  }
  const pilot = options.pilot ?? simLink;
  const slacLink = options.slacLink ?? simLink?.slacLink;
  pilot?.plugIn();
  try {
    if (slacLink) {
      // Plugged in: the EVSE's SLAC side starts on state B, give the CP a moment to settle.
      if (simLink) await new Promise((r) => setTimeout(r, 100));
      const slac = new SlacEv({ link: slacLink, log });
      const matched = await slac.match();
      if (!matched.ok) return summary(false, `SLAC failed: ${matched.reason ?? 'no match'}`);
      log.info({ evse: matched.evseMac, nid: matched.nid }, 'SLAC matched');
    }
    const connect = async () => {
      const secc = await discoverSecc({
        request: { security: options.tls ? 'tls' : 'none', transport: 'tcp' },
        ...(options.host ? { target: options.host } : {}),
        ...(options.iface ? { iface: options.iface } : {}),
        ...(options.sdpPort ? { port: options.sdpPort } : {}),
      });
      log.info({ secc }, 'SECC discovered');
      if (options.tls && secc.security !== 'tls') throw new Error('the SECC offers no TLS');
      const scoped = secc.address.toLowerCase().startsWith('fe80:') && secc.scope ? `${secc.address}%${secc.scope}` : secc.address;
      return V2gtpClient.connect({
        host: scoped,
        port: secc.port,
        ...(secc.security === 'tls' ? { tls: { ...(options.tlsCa ? { ca: options.tlsCa } : { rejectUnauthorized: false }) } } : {}),
      });
    };
    const onResponse = (name: string, body: Record<string, unknown>) => {
      const voltage = (body.EVSEPresentVoltage as { Value: number; Multiplier: number } | undefined) ?? undefined;
      const current = (body.EVSEPresentCurrent as { Value: number; Multiplier: number } | undefined) ?? undefined;
      options.onProgress?.({
        step: name.replace(/Res$/, ''),
        soc: battery.soc(),
        ...(voltage ? { voltage: voltage.Value * 10 ** voltage.Multiplier } : {}),
        ...(current ? { current: current.Value * 10 ** current.Multiplier } : {}),
      });
    };
    const timing = { ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}), ...(options.loopMs !== undefined ? { loopMs: options.loopMs } : {}) };
    if (options.protocol === 'din') {
      const client = await connect();
      try {
        const evcc = new DinEvcc({
          client,
          ev: battery,
          ...timing,
          hooks: { beforeCableCheck: () => pilot?.requestPower(), afterPowerDeliveryStop: () => pilot?.stopPower(), onResponse },
        });
        const result = await evcc.run();
        return summary(result.ok, result.stopReason, result);
      } finally {
        client.close();
      }
    }
    // ISO 15118-2, AC or DC; with a pause the EV sleeps, wakes up and resumes the same session.
    const runIso2 = async (resumeSessionId?: string): Promise<Iso2EvccResult> => {
      const client = await connect();
      try {
        return await new Iso2Evcc({
          client,
          ev: battery,
          mode,
          ...timing,
          ...(resumeSessionId ? { resumeSessionId } : options.pauseAtSoc !== undefined ? { pauseAtSoc: options.pauseAtSoc } : {}),
          ...(options.renegotiateAtSoc !== undefined ? { renegotiateAtSoc: options.renegotiateAtSoc } : {}),
          ...(options.services?.length ? { services: options.services } : {}),
          ...(options.pnc ? { pnc: options.pnc } : {}),
          hooks: {
            beforeCableCheck: () => pilot?.requestPower(),
            afterPowerDeliveryStart: () => pilot?.requestPower(),
            afterPowerDeliveryStop: () => pilot?.stopPower(),
            onResponse,
          },
        }).run();
      } finally {
        client.close();
      }
    };
    const first = await runIso2();
    if (!first.paused) return summary(first.ok, first.stopReason, first);
    log.info({ sessionId: first.sessionId, pauseMs: options.pauseMs ?? 1000 }, 'session paused: sleeping');
    exchanges.push(...first.exchanges);
    messages += first.messages;
    await new Promise((r) => setTimeout(r, options.pauseMs ?? 1000));
    const second = await runIso2(first.sessionId);
    const resumed = second.joined && second.sessionId === first.sessionId;
    return summary(second.ok && resumed, resumed ? second.stopReason : `resume failed: ${second.stopReason}`, second, { resumed });
  } catch (error) {
    return summary(false, (error as Error).message);
  } finally {
    pilot?.stopPower();
    if (simLink) {
      simLink.unplug();
      // Let the unplug reach the daemon before the socket closes.
      await new Promise((r) => setTimeout(r, 50));
      simLink.close();
    }
  }
}

/** Collapse runs of the same entry: ["A", "B", "B", "B"] → ["A", "B×3"]. */
function compress(items: string[]): string[] {
  const out: string[] = [];
  let last: string | undefined;
  let count = 0;
  const flush = () => {
    if (last !== undefined) out.push(count > 1 ? `${last}×${count}` : last);
  };
  for (const item of items) {
    if (item === last) {
      count++;
      continue;
    }
    flush();
    last = item;
    count = 1;
  }
  flush();
  return out;
}
