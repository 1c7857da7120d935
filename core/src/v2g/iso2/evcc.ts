/**
 * The EV side of ISO 15118-2 (EVCC), AC and DC with external identification, for the EV simulator
 * and for tests: the full request sequence with EVSEProcessing polling, a charging profile within
 * the offered schedule, the ChargingStatus (AC) or CurrentDemand (DC) loop driven by an EV model,
 * metering receipts when asked, renegotiation (when the EVSE notifies it, or planned by the EV),
 * and the orderly stop with Terminate or Pause; a paused session is resumed by a new Iso2Evcc with
 * `resumeSessionId`. It talks through a V2gtpClient, so it exercises the same transport as a real EV.
 */
import { decode, encode } from '@opensecc/exi-codec';
import { APP_PROTOCOLS, appProtocolRequest, type AppProtocolName } from '../apphand/negotiate.js';
import type { DinEvModel } from '../din/evcc.js';
import { exiMagnitude, fromNumber, toExi, type ExiPhysicalValue } from '../physical.js';
import type { V2gtpClient } from '../transport/client.js';
import type { KeyObject } from 'node:crypto';
import { Iso2EvPnc, type Iso2EvccPncOptions } from './evcc-pnc.js';

/** The vehicle: DIN's battery model, plus what an AC EV states. */
export interface Iso2EvModel extends DinEvModel {
  /** AC: per-phase current limits, maximum voltage, phases used (default 16 A / 6 A / 400 V / 3). */
  acLimits?(): { maxCurrent: number; minCurrent: number; maxVoltage: number; phases: 1 | 3 };
}

export interface Iso2EvccHooks {
  /** DC, before CableCheck: the EV closes S2 (state C). */
  beforeCableCheck?(): void;
  /** AC, after PowerDeliveryRes Start: the EV closes S2 (state C). */
  afterPowerDeliveryStart?(): void;
  /** After PowerDelivery Stop: the EV opens S2 (state B). */
  afterPowerDeliveryStop?(): void;
  onResponse?(name: string, body: Record<string, unknown>): void;
  /** Tests: change a request document (already signed) before it is encoded and sent. */
  transformRequest?(name: string, document: { V2G_Message: { Header: Record<string, unknown>; Body: Record<string, unknown> } }): void;
}

export interface Iso2EvccOptions {
  readonly client: V2gtpClient;
  readonly ev: Iso2EvModel;
  readonly mode: 'ac' | 'dc';
  readonly hooks?: Iso2EvccHooks;
  /** Protocols offered in the app handshake, most preferred first (default ['iso15118-2']). */
  readonly protocols?: readonly AppProtocolName[];
  /** Join this paused session (SessionSetupReq with its SessionID). */
  readonly resumeSessionId?: string;
  /** Pause (PowerDelivery Stop, SessionStop Pause) once the SoC reaches this. */
  readonly pauseAtSoc?: number;
  /** Renegotiate once, on the EV's initiative, when the SoC reaches this. */
  readonly renegotiateAtSoc?: number;
  /** Send a ChargingProfile with PowerDelivery Start (default true). */
  readonly chargingProfile?: boolean;
  /** DepartureTime in the charge parameters, s. */
  readonly departureTimeS?: number;
  readonly pollMs?: number;
  readonly loopMs?: number;
  readonly responseTimeoutMs?: number;
  readonly preChargeTimeoutMs?: number;
  readonly ongoingTimeoutMs?: number;
  readonly now?: () => number;
  /** Plug & Charge: select Contract, (install a contract,) PaymentDetails, signed Authorization and MeteringReceipt. */
  readonly pnc?: Iso2EvccPncOptions;
  /**
   * Value-added services to use besides charging: the EV discovers all services (no category
   * filter), asks ServiceDetail for each of these and selects them with the parameter set.
   */
  readonly services?: readonly RequestedService[];
}

/** A value-added service the EV wants: its ServiceID and, when it has parameter sets, the one to use. */
export interface RequestedService {
  readonly serviceId: number;
  readonly parameterSetId?: number;
}

export interface Iso2EvccResult {
  readonly ok: boolean;
  readonly messages: number;
  readonly exchanges: Array<{ request: string; response: string; code: string }>;
  readonly stopReason: string;
  readonly sessionId: string | undefined;
  /** The session ended with SessionStop Pause (resume it with `resumeSessionId`). */
  readonly paused: boolean;
  /** SessionSetupRes said OK_OldSessionJoined. */
  readonly joined: boolean;
  readonly renegotiations: number;
  readonly energyTransferMode: string | undefined;
  /** The value-added services selected in PaymentServiceSelection (with ServiceName when the SECC gave one). */
  readonly selectedServices: ReadonlyArray<RequestedService & { readonly name?: string }>;
  /** Plug & Charge: the eMAID charged on, and whether its contract was installed in this session. */
  readonly emaid?: string;
  readonly contractInstalled?: boolean;
  /** Plug & Charge: the contract was renewed by CertificateUpdate in this session; the serial of the contract paid with. */
  readonly contractUpdated?: boolean;
  readonly contractSerial?: string;
}

export class Iso2EvccError extends Error {
  constructor(
    message: string,
    readonly step: string,
  ) {
    super(message);
    this.name = 'Iso2EvccError';
  }
}

const ZERO_ID = '0000000000000000';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ScheduleTuple {
  SAScheduleTupleID: number;
  PMaxSchedule: { PMaxScheduleEntry: Array<{ RelativeTimeInterval?: { start: number; duration?: number }; PMax: ExiPhysicalValue }> };
}

export class Iso2Evcc {
  private sessionId: string;
  private readonly exchanges: Iso2EvccResult['exchanges'] = [];
  private messages = 0;
  private joined = false;
  private paused = false;
  private renegotiations = 0;
  private evseRenegotiationAnswered = false;
  private evRenegotiationDone = false;
  private transferMode: string | undefined;
  private tuple: ScheduleTuple | undefined;
  private nominalVoltage = 230;
  private evseMaxCurrent = 0;
  private readonly selectedServices: Array<RequestedService & { name?: string }> = [];
  private readonly pnc: Iso2EvPnc | undefined;
  private pncEmaid: string | undefined;
  private lastSignature: unknown;

  constructor(private readonly options: Iso2EvccOptions) {
    this.sessionId = options.resumeSessionId ?? ZERO_ID;
    this.pnc = options.pnc ? new Iso2EvPnc(options.pnc) : undefined;
  }

  async run(): Promise<Iso2EvccResult> {
    const o = this.options;
    const pollMs = o.pollMs ?? 200;
    try {
      await this.handshake();
      const setup = await this.exchange('SessionSetupReq', { EVCCID: o.ev.evccId }, 'SessionSetupRes');
      this.joined = setup.ResponseCode === 'OK_OldSessionJoined';
      const wanted = o.services ?? [];
      const discovery = await this.exchange('ServiceDiscoveryReq', wanted.length > 0 ? {} : { ServiceCategory: 'EVCharging' }, 'ServiceDiscoveryRes');
      this.transferMode = this.pickMode(discovery);
      const payment = (discovery.PaymentOptionList as { PaymentOption?: string[] } | undefined)?.PaymentOption ?? [];
      const option = this.pnc ? 'Contract' : 'ExternalPayment';
      if (!payment.includes(option)) throw new Iso2EvccError(`the SECC offers no ${option} (${payment.join(', ')})`, 'ServiceDiscoveryReq');
      const detailed = await this.detailServices(discovery, wanted);
      const selected = [{ ServiceID: 1 }, ...wanted.map((w) => ({ ServiceID: w.serviceId, ...(w.parameterSetId !== undefined ? { ParameterSetID: w.parameterSetId } : {}) }))];
      await this.exchange('PaymentServiceSelectionReq', { SelectedPaymentOption: option, SelectedServiceList: { SelectedService: selected } }, 'PaymentServiceSelectionRes');
      this.selectedServices.push(...detailed);
      if (this.pnc) await this.plugAndCharge(this.pnc, pollMs);
      else await this.poll('AuthorizationReq', () => ({}), 'AuthorizationRes', pollMs);
      await this.chargeParameterDiscovery(pollMs);
      if (o.mode === 'dc') {
        o.hooks?.beforeCableCheck?.();
        await this.poll('CableCheckReq', () => ({ DC_EVStatus: this.dcStatus(true) }), 'CableCheckRes', pollMs);
        await this.preCharge(pollMs);
      }
      await this.powerDeliveryStart();
      if (o.mode === 'ac') o.hooks?.afterPowerDeliveryStart?.();
      const stopReason = await this.chargeLoop(pollMs);
      const pause = stopReason === 'paused';
      await this.exchange('PowerDeliveryReq', this.powerDeliveryBody('Stop'), 'PowerDeliveryRes');
      o.hooks?.afterPowerDeliveryStop?.();
      if (o.mode === 'dc') {
        for (let i = 0; i < 2; i++) {
          await this.exchange('WeldingDetectionReq', { DC_EVStatus: this.dcStatus(false) }, 'WeldingDetectionRes');
          await sleep(Math.min(pollMs, 50));
        }
      }
      await this.exchange('SessionStopReq', { ChargingSession: pause ? 'Pause' : 'Terminate' }, 'SessionStopRes');
      this.paused = pause;
      return this.result(stopReason === 'target SoC reached' || pause, stopReason);
    } catch (error) {
      const reason = error instanceof Iso2EvccError ? `${error.step}: ${error.message}` : (error as Error).message;
      return this.result(false, reason);
    }
  }

  private result(ok: boolean, stopReason: string): Iso2EvccResult {
    return {
      ok,
      messages: this.messages,
      exchanges: this.exchanges,
      stopReason,
      sessionId: this.sessionId === ZERO_ID ? undefined : this.sessionId,
      paused: this.paused,
      joined: this.joined,
      renegotiations: this.renegotiations,
      energyTransferMode: this.transferMode,
      selectedServices: this.selectedServices,
      ...(this.pnc && this.pncEmaid ? { emaid: this.pncEmaid, contractInstalled: this.pnc.installed, contractUpdated: this.pnc.updated, ...(this.pnc.contractSerial ? { contractSerial: this.pnc.contractSerial } : {}) } : {}),
    };
  }

  /** ServiceDetail for each wanted service: it must be in the ServiceList, and the parameter set in its details. */
  private async detailServices(discovery: Record<string, unknown>, wanted: readonly RequestedService[]): Promise<Array<RequestedService & { name?: string }>> {
    const detailed: Array<RequestedService & { name?: string }> = [];
    const listed = (discovery.ServiceList as { Service?: Array<{ ServiceID: number; ServiceName?: string }> } | undefined)?.Service ?? [];
    for (const want of wanted) {
      const service = listed.find((s) => s.ServiceID === want.serviceId);
      if (!service) throw new Iso2EvccError(`service ${want.serviceId} is not in the ServiceList (${listed.map((s) => s.ServiceID).join(', ') || 'empty'})`, 'ServiceDiscoveryReq');
      const detail = await this.exchange('ServiceDetailReq', { ServiceID: want.serviceId }, 'ServiceDetailRes');
      const sets = (detail.ServiceParameterList as { ParameterSet?: Array<{ ParameterSetID: number }> } | undefined)?.ParameterSet ?? [];
      if (want.parameterSetId !== undefined && !sets.some((p) => p.ParameterSetID === want.parameterSetId)) {
        throw new Iso2EvccError(`service ${want.serviceId} has no parameter set ${want.parameterSetId} (${sets.map((p) => p.ParameterSetID).join(', ') || 'none'})`, 'ServiceDetailReq');
      }
      detailed.push({ ...want, ...(service.ServiceName !== undefined ? { name: service.ServiceName } : {}) });
    }
    return detailed;
  }

  private async handshake(): Promise<void> {
    const protocols = this.options.protocols ?? ['iso15118-2'];
    const request = appProtocolRequest(protocols);
    const response = await this.options.client.request(encode('apphand', request), this.options.responseTimeoutMs ?? 5000);
    this.messages += 2;
    const res = decode('apphand', response.payload).supportedAppProtocolRes as { ResponseCode: string; SchemaID?: number } | undefined;
    if (!res) throw new Iso2EvccError('no supportedAppProtocolRes', 'app handshake');
    this.exchanges.push({ request: 'supportedAppProtocolReq', response: 'supportedAppProtocolRes', code: res.ResponseCode });
    if (!res.ResponseCode.startsWith('OK')) throw new Iso2EvccError(res.ResponseCode, 'app handshake');
    const chosen = request.supportedAppProtocolReq.AppProtocol.find((p) => p.SchemaID === res.SchemaID);
    if (chosen?.ProtocolNamespace !== APP_PROTOCOLS['iso15118-2'].namespace) {
      throw new Iso2EvccError(`the SECC chose ${chosen?.ProtocolNamespace ?? `SchemaID ${String(res.SchemaID)}`}, not ISO 15118-2`, 'app handshake');
    }
  }

  private async exchange(name: string, body: Record<string, unknown>, expected: string, signWith?: KeyObject): Promise<Record<string, unknown>> {
    const header: Record<string, unknown> = { SessionID: this.sessionId };
    if (signWith) header.Signature = Iso2EvPnc.sign(name, body, signWith);
    const request = { V2G_Message: { Header: header, Body: { [name]: body } } };
    this.options.hooks?.transformRequest?.(name, request);
    const response = await this.options.client.request(encode('iso2', request), this.options.responseTimeoutMs ?? 5000);
    this.messages += 2;
    const document = decode('iso2', response.payload) as { V2G_Message?: { Header: { SessionID: string; Signature?: unknown }; Body: Record<string, Record<string, unknown>> } };
    const message = document.V2G_Message;
    this.lastSignature = message?.Header.Signature;
    const resBody = message?.Body[expected];
    if (!message || !resBody) throw new Iso2EvccError(`expected ${expected}, got ${Object.keys(message?.Body ?? {}).join(',') || 'nothing'}`, name);
    const code = String(resBody.ResponseCode);
    this.exchanges.push({ request: name, response: expected, code });
    this.options.hooks?.onResponse?.(expected, resBody);
    if (name === 'SessionSetupReq') this.sessionId = message.Header.SessionID;
    if (!code.startsWith('OK')) throw new Iso2EvccError(`${expected} ${code}`, name);
    return resBody;
  }

  /**
   * Contract payment after PaymentServiceSelection: CertificateInstallation when the EV has no
   * contract (or is told to install one), CertificateUpdate when told to renew it, PaymentDetails, then AuthorizationReq with the
   * GenChallenge, signed with the contract key; polls while Ongoing without signing again.
   */
  private async plugAndCharge(pnc: Iso2EvPnc, pollMs: number): Promise<void> {
    if (pnc.needsInstallation) {
      const res = await this.exchange('CertificateInstallationReq', pnc.installationRequest(), 'CertificateInstallationRes', pnc.oemKey);
      try {
        pnc.acceptInstallation(res, this.lastSignature);
      } catch (error) {
        throw new Iso2EvccError((error as Error).message, 'CertificateInstallationReq');
      }
    }
    if (pnc.needsUpdate) {
      const res = await this.exchange('CertificateUpdateReq', pnc.updateRequest(), 'CertificateUpdateRes', pnc.contractKey);
      try {
        pnc.acceptUpdate(res, this.lastSignature);
      } catch (error) {
        throw new Iso2EvccError((error as Error).message, 'CertificateUpdateReq');
      }
    }
    this.pncEmaid = pnc.emaid;
    const details = await this.exchange('PaymentDetailsReq', pnc.paymentDetails(), 'PaymentDetailsRes');
    if (typeof details.GenChallenge !== 'string') throw new Iso2EvccError('PaymentDetailsRes without GenChallenge', 'PaymentDetailsReq');
    const deadline = Date.now() + (this.options.ongoingTimeoutMs ?? 60_000);
    let res = await this.exchange('AuthorizationReq', { Id: 'id1', GenChallenge: details.GenChallenge }, 'AuthorizationRes', pnc.contractKey);
    while (res.EVSEProcessing !== 'Finished') {
      if (Date.now() > deadline) throw new Iso2EvccError('EVSEProcessing stayed Ongoing', 'AuthorizationReq');
      await sleep(pollMs);
      res = await this.exchange('AuthorizationReq', {}, 'AuthorizationRes');
    }
  }

  private async poll(name: string, body: () => Record<string, unknown>, expected: string, pollMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + (this.options.ongoingTimeoutMs ?? 60_000);
    for (;;) {
      const res = await this.exchange(name, body(), expected);
      if (res.EVSEProcessing === 'Finished') return res;
      if (Date.now() > deadline) throw new Iso2EvccError('EVSEProcessing stayed Ongoing', name);
      await sleep(pollMs);
    }
  }

  private pickMode(discovery: Record<string, unknown>): string {
    const offered = ((discovery.ChargeService as { SupportedEnergyTransferMode?: { EnergyTransferMode?: string[] } } | undefined)?.SupportedEnergyTransferMode?.EnergyTransferMode ?? []) as string[];
    const wanted =
      this.options.mode === 'ac'
        ? (this.acLimits().phases === 3 ? ['AC_three_phase_core', 'AC_single_phase_core'] : ['AC_single_phase_core', 'AC_three_phase_core'])
        : ['DC_extended', 'DC_core', 'DC_combo_core', 'DC_unique'];
    const mode = wanted.find((m) => offered.includes(m));
    if (!mode) throw new Iso2EvccError(`no ${this.options.mode.toUpperCase()} energy transfer mode offered (${offered.join(', ')})`, 'ServiceDiscoveryReq');
    return mode;
  }

  private acLimits() {
    return this.options.ev.acLimits?.() ?? { maxCurrent: 16, minCurrent: 6, maxVoltage: 400, phases: 3 as const };
  }

  private async chargeParameterDiscovery(pollMs: number): Promise<void> {
    const res = await this.poll('ChargeParameterDiscoveryReq', () => this.chargeParameters(), 'ChargeParameterDiscoveryRes', pollMs);
    const tuples = (res.SAScheduleList as { SAScheduleTuple?: ScheduleTuple[] } | undefined)?.SAScheduleTuple ?? [];
    if (tuples.length === 0) throw new Iso2EvccError('no SAScheduleList', 'ChargeParameterDiscoveryReq');
    this.tuple = tuples[0];
    const ac = res.AC_EVSEChargeParameter as { EVSENominalVoltage?: ExiPhysicalValue; EVSEMaxCurrent?: ExiPhysicalValue } | undefined;
    if (ac?.EVSENominalVoltage) this.nominalVoltage = exiMagnitude(ac.EVSENominalVoltage);
    if (ac?.EVSEMaxCurrent) this.evseMaxCurrent = exiMagnitude(ac.EVSEMaxCurrent);
  }

  private chargeParameters(): Record<string, unknown> {
    const ev = this.options.ev;
    const departure = this.options.departureTimeS !== undefined ? { DepartureTime: this.options.departureTimeS } : {};
    const limits = ev.limits();
    const energyRequest = Math.max(0, ((100 - ev.soc()) / 100) * limits.capacityWh);
    if (this.options.mode === 'ac') {
      const ac = this.acLimits();
      return {
        MaxEntriesSAScheduleTuple: 24,
        RequestedEnergyTransferMode: this.transferMode,
        AC_EVChargeParameter: {
          ...departure,
          EAmount: toExi(fromNumber(energyRequest, 'Wh', 0)),
          EVMaxVoltage: toExi(fromNumber(ac.maxVoltage, 'V', 0)),
          EVMaxCurrent: toExi(fromNumber(ac.maxCurrent, 'A')),
          EVMinCurrent: toExi(fromNumber(ac.minCurrent, 'A')),
        },
      };
    }
    return {
      MaxEntriesSAScheduleTuple: 24,
      RequestedEnergyTransferMode: this.transferMode,
      DC_EVChargeParameter: {
        ...departure,
        DC_EVStatus: this.dcStatus(false),
        EVMaximumCurrentLimit: toExi(fromNumber(limits.maxCurrent, 'A')),
        EVMaximumPowerLimit: toExi(fromNumber(limits.maxPower, 'W')),
        EVMaximumVoltageLimit: toExi(fromNumber(limits.maxVoltage, 'V')),
        EVEnergyCapacity: toExi(fromNumber(limits.capacityWh, 'Wh', 0)),
        EVEnergyRequest: toExi(fromNumber(energyRequest, 'Wh', 0)),
        FullSOC: 100,
        BulkSOC: 80,
      },
    };
  }

  private async preCharge(pollMs: number): Promise<void> {
    const target = this.options.ev.batteryVoltage();
    const deadline = Date.now() + (this.options.preChargeTimeoutMs ?? 7000);
    for (;;) {
      const res = await this.exchange('PreChargeReq', { DC_EVStatus: this.dcStatus(true), EVTargetVoltage: toExi(fromNumber(target, 'V')), EVTargetCurrent: toExi(fromNumber(2, 'A')) }, 'PreChargeRes');
      const present = exiMagnitude(res.EVSEPresentVoltage as ExiPhysicalValue | undefined);
      if (Math.abs(present - target) <= 10) return;
      if (Date.now() > deadline) throw new Iso2EvccError(`present voltage ${present} V did not reach ${target} V`, 'PreChargeReq');
      await sleep(Math.min(pollMs, 100));
    }
  }

  private powerDeliveryBody(progress: 'Start' | 'Stop' | 'Renegotiate'): Record<string, unknown> {
    const body: Record<string, unknown> = { ChargeProgress: progress, SAScheduleTupleID: this.tuple?.SAScheduleTupleID ?? 1 };
    if (progress === 'Start' && this.options.chargingProfile !== false && this.tuple) body.ChargingProfile = this.profile(this.tuple);
    if (this.options.mode === 'dc') {
      const done = progress === 'Stop';
      body.DC_EVPowerDeliveryParameter = { DC_EVStatus: this.dcStatus(!done), BulkChargingComplete: done, ChargingComplete: done };
    }
    return body;
  }

  /** The EV's plan: at each step of the schedule, the lesser of its PMax and what the EV can take. */
  private profile(tuple: ScheduleTuple): Record<string, unknown> {
    const ev = this.options.ev;
    const ac = this.acLimits();
    const evMax = this.options.mode === 'ac' ? ac.maxCurrent * ac.phases * this.nominalVoltage : ev.limits().maxPower;
    return {
      ProfileEntry: tuple.PMaxSchedule.PMaxScheduleEntry.map((entry) => {
        const watts = Math.min(evMax, exiMagnitude(entry.PMax));
        // Round down to the multiplier so the plan never exceeds the schedule.
        const pv = fromNumber(watts, 'W', 0);
        const value = Math.floor(watts / 10 ** pv.multiplier);
        return {
          ChargingProfileEntryStart: entry.RelativeTimeInterval?.start ?? 0,
          ChargingProfileEntryMaxPower: { Multiplier: pv.multiplier, Unit: 'W', Value: value },
          ...(this.options.mode === 'ac' ? { ChargingProfileEntryMaxNumberOfPhasesInUse: ac.phases } : {}),
        };
      }),
    };
  }

  private async powerDeliveryStart(): Promise<void> {
    await this.exchange('PowerDeliveryReq', this.powerDeliveryBody('Start'), 'PowerDeliveryRes');
  }

  private async renegotiate(pollMs: number): Promise<void> {
    await this.exchange('PowerDeliveryReq', this.powerDeliveryBody('Renegotiate'), 'PowerDeliveryRes');
    await this.chargeParameterDiscovery(pollMs);
    await this.powerDeliveryStart();
    this.renegotiations++;
  }

  /** ChargingStatus (AC) or CurrentDemand (DC) until the EV is full, pauses, or the EVSE stops. */
  private async chargeLoop(pollMs: number): Promise<string> {
    const o = this.options;
    const ev = o.ev;
    const now = o.now ?? Date.now;
    const loopMs = o.loopMs ?? 100;
    let last = now();
    let volts = 0;
    let amps = 0;
    for (;;) {
      const t = now();
      ev.absorb(volts, amps, t - last);
      last = t;
      const complete = ev.complete();
      const pause = o.pauseAtSoc !== undefined && ev.soc() >= o.pauseAtSoc;
      let res: Record<string, unknown>;
      let status: { EVSENotification?: string; EVSEStatusCode?: string } | undefined;
      if (o.mode === 'ac') {
        res = await this.exchange('ChargingStatusReq', {}, 'ChargingStatusRes');
        if (res.EVSEMaxCurrent) this.evseMaxCurrent = exiMagnitude(res.EVSEMaxCurrent as ExiPhysicalValue);
        const ac = this.acLimits();
        volts = this.nominalVoltage;
        amps = Math.min(ac.maxCurrent, this.evseMaxCurrent) * ac.phases;
        status = res.AC_EVSEStatus as typeof status;
      } else {
        const limits = ev.limits();
        res = await this.exchange(
          'CurrentDemandReq',
          {
            DC_EVStatus: this.dcStatus(true),
            EVTargetCurrent: toExi(fromNumber(complete || pause ? 0 : ev.requestedCurrent(), 'A')),
            EVMaximumVoltageLimit: toExi(fromNumber(limits.maxVoltage, 'V')),
            EVMaximumCurrentLimit: toExi(fromNumber(limits.maxCurrent, 'A')),
            EVMaximumPowerLimit: toExi(fromNumber(limits.maxPower, 'W')),
            BulkChargingComplete: complete,
            ChargingComplete: complete,
            EVTargetVoltage: toExi(fromNumber(limits.maxVoltage, 'V')),
          },
          'CurrentDemandRes',
        );
        volts = exiMagnitude(res.EVSEPresentVoltage as ExiPhysicalValue | undefined);
        amps = exiMagnitude(res.EVSEPresentCurrent as ExiPhysicalValue | undefined);
        status = res.DC_EVSEStatus as typeof status;
      }
      if (res.ReceiptRequired === true) {
        const meter = res.MeterInfo as Record<string, unknown> | undefined;
        const receipt = { ...(this.pnc ? { Id: 'id1' } : {}), SessionID: this.sessionId, SAScheduleTupleID: res.SAScheduleTupleID, MeterInfo: meter ?? { MeterID: 'unknown' } };
        await this.exchange('MeteringReceiptReq', receipt, 'MeteringReceiptRes', this.pnc ? this.pnc.contractKey : undefined);
      }
      if (complete) return 'target SoC reached';
      if (pause) return 'paused';
      if (status?.EVSENotification === 'StopCharging' || status?.EVSEStatusCode === 'EVSE_Shutdown') return 'EVSE stopped charging';
      if (status?.EVSENotification === 'ReNegotiation') {
        if (!this.evseRenegotiationAnswered) {
          this.evseRenegotiationAnswered = true;
          await this.renegotiate(pollMs);
        }
      } else {
        this.evseRenegotiationAnswered = false;
        if (o.renegotiateAtSoc !== undefined && !this.evRenegotiationDone && ev.soc() >= o.renegotiateAtSoc) {
          this.evRenegotiationDone = true;
          await this.renegotiate(pollMs);
        }
      }
      await sleep(loopMs);
    }
  }

  private dcStatus(ready: boolean): Record<string, unknown> {
    return { EVReady: ready, EVErrorCode: 'NO_ERROR', EVRESSSOC: Math.min(100, Math.max(0, Math.floor(this.options.ev.soc()))) };
  }
}
