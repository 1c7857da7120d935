/**
 * The EV side of DIN 70121 DC (EVCC), for the EV simulator and for tests: the full request
 * sequence with EVSEProcessing polling, pre-charge to the battery voltage, the CurrentDemand loop
 * driven by an EV model, and the orderly stop. It talks through a V2gtpClient, so it exercises the
 * same transport as a real EV does.
 */
import { decode, encode } from '@opensecc/exi-codec';
import { appProtocolRequest } from '../apphand/negotiate.js';
import { exiMagnitude, fromNumber, toExi } from '../physical.js';
import type { V2gtpClient } from '../transport/client.js';

/** What the EVCC needs from the vehicle (battery and its management). */
export interface DinEvModel {
  /** EVCCID: the EV's MAC address, hex. */
  readonly evccId: string;
  soc(): number;
  /** Maximum voltage/current/power the EV accepts. */
  limits(): { maxVoltage: number; maxCurrent: number; maxPower: number; capacityWh: number };
  /** The battery's voltage now (the pre-charge target). */
  batteryVoltage(): number;
  /** The current the EV asks for now (tapers near full). */
  requestedCurrent(): number;
  /** Energy flowed for `ms` at the EVSE's present voltage/current. */
  absorb(volts: number, amps: number, ms: number): void;
  /** The EV wants to stop (target SoC reached). */
  complete(): boolean;
}

export interface DinEvccHooks {
  /** Before CableCheck: the EV closes S2 (state C). */
  beforeCableCheck?(): void;
  /** After PowerDelivery stop: the EV opens S2 (state B). */
  afterPowerDeliveryStop?(): void;
  /** Every response, for progress output. */
  onResponse?(name: string, body: Record<string, unknown>): void;
}

export interface DinEvccOptions {
  readonly client: V2gtpClient;
  readonly ev: DinEvModel;
  readonly hooks?: DinEvccHooks;
  /** Wait between EVSEProcessing=Ongoing polls (real EVs: ~ 100 ms – 1 s). */
  readonly pollMs?: number;
  /** Wait between CurrentDemand requests. */
  readonly loopMs?: number;
  /** Response timeout per request (DIN: 2 s for most messages, 5 s for CurrentDemand; generous here). */
  readonly responseTimeoutMs?: number;
  /** Give up on pre-charge after this (DIN V2G_EVCC_PreCharge... 7 s). */
  readonly preChargeTimeoutMs?: number;
  /** Stop polling an Ongoing step after this (V2G_EVCC_Ongoing_Timeout). */
  readonly ongoingTimeoutMs?: number;
  /** Time source for the battery integration (the simulator speeds time up). */
  readonly now?: () => number;
}

export interface DinEvccResult {
  readonly ok: boolean;
  readonly messages: number;
  readonly exchanges: Array<{ request: string; response: string; code: string }>;
  readonly stopReason: string;
  readonly sessionId: string | undefined;
}

export class DinEvccError extends Error {
  constructor(
    message: string,
    readonly step: string,
  ) {
    super(message);
    this.name = 'DinEvccError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DinEvcc {
  private sessionId = '0000000000000000';
  private readonly exchanges: DinEvccResult['exchanges'] = [];
  private messages = 0;

  constructor(private readonly options: DinEvccOptions) {}

  async run(): Promise<DinEvccResult> {
    const o = this.options;
    const pollMs = o.pollMs ?? 200;
    const loopMs = o.loopMs ?? 100;
    const ev = o.ev;
    try {
      await this.handshake();
      const setup = await this.exchange('SessionSetupReq', { EVCCID: ev.evccId }, 'SessionSetupRes');
      if (!String(setup.ResponseCode).startsWith('OK')) return this.result(false, `SessionSetup ${String(setup.ResponseCode)}`);
      await this.exchange('ServiceDiscoveryReq', { ServiceCategory: 'EVCharging' }, 'ServiceDiscoveryRes');
      await this.exchange('ServicePaymentSelectionReq', { SelectedPaymentOption: 'ExternalPayment', SelectedServiceList: { SelectedService: [{ ServiceID: 1 }] } }, 'ServicePaymentSelectionRes');
      await this.poll('ContractAuthenticationReq', () => ({}), 'ContractAuthenticationRes', pollMs);
      await this.poll('ChargeParameterDiscoveryReq', () => this.chargeParameters(), 'ChargeParameterDiscoveryRes', pollMs);
      o.hooks?.beforeCableCheck?.();
      await this.poll('CableCheckReq', () => ({ DC_EVStatus: this.status(true) }), 'CableCheckRes', pollMs);
      await this.preCharge(pollMs);
      await this.exchange('PowerDeliveryReq', { ReadyToChargeState: true, DC_EVPowerDeliveryParameter: { DC_EVStatus: this.status(true), BulkChargingComplete: false, ChargingComplete: false } }, 'PowerDeliveryRes');
      const stopReason = await this.currentDemandLoop(loopMs);
      await this.exchange('PowerDeliveryReq', { ReadyToChargeState: false, DC_EVPowerDeliveryParameter: { DC_EVStatus: this.status(false), BulkChargingComplete: true, ChargingComplete: true } }, 'PowerDeliveryRes');
      o.hooks?.afterPowerDeliveryStop?.();
      for (let i = 0; i < 2; i++) {
        await this.exchange('WeldingDetectionReq', { DC_EVStatus: this.status(false) }, 'WeldingDetectionRes');
        await sleep(pollMs);
      }
      await this.exchange('SessionStopReq', {}, 'SessionStopRes');
      return this.result(stopReason === 'target SoC reached', stopReason);
    } catch (error) {
      const reason = error instanceof DinEvccError ? `${error.step}: ${error.message}` : (error as Error).message;
      return this.result(false, reason);
    }
  }

  private result(ok: boolean, stopReason: string): DinEvccResult {
    return { ok, messages: this.messages, exchanges: this.exchanges, stopReason, sessionId: this.sessionId === '0000000000000000' ? undefined : this.sessionId };
  }

  private async handshake(): Promise<void> {
    const timeout = this.options.responseTimeoutMs ?? 5000;
    const response = await this.options.client.request(encode('apphand', appProtocolRequest(['din70121'])), timeout);
    this.messages += 2;
    const res = decode('apphand', response.payload).supportedAppProtocolRes as { ResponseCode: string } | undefined;
    if (!res) throw new DinEvccError('no supportedAppProtocolRes', 'app handshake');
    this.exchanges.push({ request: 'supportedAppProtocolReq', response: 'supportedAppProtocolRes', code: res.ResponseCode });
    if (!res.ResponseCode.startsWith('OK')) throw new DinEvccError(res.ResponseCode, 'app handshake');
  }

  private async exchange(name: string, body: Record<string, unknown>, expected: string): Promise<Record<string, unknown>> {
    const request = { V2G_Message: { Header: { SessionID: this.sessionId }, Body: { [name]: body } } };
    const response = await this.options.client.request(encode('din', request), this.options.responseTimeoutMs ?? 5000);
    this.messages += 2;
    const document = decode('din', response.payload) as { V2G_Message?: { Header: { SessionID: string }; Body: Record<string, Record<string, unknown>> } };
    const message = document.V2G_Message;
    const resBody = message?.Body[expected];
    if (!message || !resBody) throw new DinEvccError(`expected ${expected}, got ${Object.keys(message?.Body ?? {}).join(',') || 'nothing'}`, name);
    const code = String(resBody.ResponseCode);
    this.exchanges.push({ request: name, response: expected, code });
    this.options.hooks?.onResponse?.(expected, resBody);
    if (name === 'SessionSetupReq') this.sessionId = message.Header.SessionID;
    if (!code.startsWith('OK')) throw new DinEvccError(`${expected} ${code}`, name);
    return resBody;
  }

  private async poll(name: string, body: () => Record<string, unknown>, expected: string, pollMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + (this.options.ongoingTimeoutMs ?? 60_000);
    for (;;) {
      const res = await this.exchange(name, body(), expected);
      if (res.EVSEProcessing !== 'Ongoing') return res;
      if (Date.now() > deadline) throw new DinEvccError('EVSEProcessing stayed Ongoing', name);
      await sleep(pollMs);
    }
  }

  private async preCharge(pollMs: number): Promise<void> {
    const target = this.options.ev.batteryVoltage();
    const deadline = Date.now() + (this.options.preChargeTimeoutMs ?? 7000);
    for (;;) {
      const res = await this.exchange('PreChargeReq', { DC_EVStatus: this.status(true), EVTargetVoltage: toExi(fromNumber(target, 'V')), EVTargetCurrent: toExi(fromNumber(2, 'A')) }, 'PreChargeRes');
      const present = exiMagnitude(res.EVSEPresentVoltage as never);
      if (Math.abs(present - target) <= 10) return;
      if (Date.now() > deadline) throw new DinEvccError(`present voltage ${present} V did not reach ${target} V`, 'PreChargeReq');
      await sleep(Math.min(pollMs, 100));
    }
  }

  private async currentDemandLoop(loopMs: number): Promise<string> {
    const ev = this.options.ev;
    const now = this.options.now ?? Date.now;
    let last = now();
    let presentVoltage = 0;
    let presentCurrent = 0;
    for (;;) {
      const t = now();
      ev.absorb(presentVoltage, presentCurrent, t - last);
      last = t;
      const complete = ev.complete();
      const limits = ev.limits();
      const res = await this.exchange(
        'CurrentDemandReq',
        {
          DC_EVStatus: this.status(true),
          EVTargetCurrent: toExi(fromNumber(complete ? 0 : ev.requestedCurrent(), 'A')),
          EVMaximumVoltageLimit: toExi(fromNumber(limits.maxVoltage, 'V')),
          EVMaximumCurrentLimit: toExi(fromNumber(limits.maxCurrent, 'A')),
          EVMaximumPowerLimit: toExi(fromNumber(limits.maxPower, 'W')),
          BulkChargingComplete: complete,
          ChargingComplete: complete,
          EVTargetVoltage: toExi(fromNumber(limits.maxVoltage, 'V')),
        },
        'CurrentDemandRes',
      );
      presentVoltage = exiMagnitude(res.EVSEPresentVoltage as never);
      presentCurrent = exiMagnitude(res.EVSEPresentCurrent as never);
      if (complete) return 'target SoC reached';
      const status = res.DC_EVSEStatus as { EVSENotification?: string; EVSEStatusCode?: string } | undefined;
      if (status?.EVSENotification === 'StopCharging' || status?.EVSEStatusCode === 'EVSE_Shutdown') return 'EVSE stopped charging';
      await sleep(loopMs);
    }
  }

  private status(ready: boolean): Record<string, unknown> {
    return { EVReady: ready, EVCabinConditioning: false, EVRESSConditioning: false, EVErrorCode: 'NO_ERROR', EVRESSSOC: Math.min(100, Math.max(0, Math.floor(this.options.ev.soc()))) };
  }

  private chargeParameters(): Record<string, unknown> {
    const ev = this.options.ev;
    const limits = ev.limits();
    return {
      EVRequestedEnergyTransferType: 'DC_extended',
      DC_EVChargeParameter: {
        DC_EVStatus: this.status(false),
        EVMaximumCurrentLimit: toExi(fromNumber(limits.maxCurrent, 'A')),
        EVMaximumPowerLimit: toExi(fromNumber(limits.maxPower, 'W')),
        EVMaximumVoltageLimit: toExi(fromNumber(limits.maxVoltage, 'V')),
        EVEnergyCapacity: toExi(fromNumber(limits.capacityWh, 'Wh', 0)),
        EVEnergyRequest: toExi(fromNumber(Math.max(0, ((100 - ev.soc()) / 100) * limits.capacityWh), 'Wh', 0)),
        FullSOC: 100,
        BulkSOC: 80,
      },
    };
  }
}
