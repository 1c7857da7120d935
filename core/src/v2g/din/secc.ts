/**
 * The DIN SPEC 70121 SECC (DC, external identification) as a state machine over decoded documents:
 * one instance per session. It answers each request from the current EVSE data, checks the order of
 * requests and the SessionID, keeps EVSEProcessing=Ongoing while the customer decides (authorization,
 * limits, isolation), drives the contactors through the charging port at PowerDelivery, and reports
 * the EV's data on the bus. Timers live in the session owner (service.ts); this class only says
 * what to arm next.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@opensecc/plugin-api';
import type { V2gChargingPort } from '../charging-port.js';
import type { EvseData, EvseDataSource, HlcReporter } from '../evse-data.js';
import { exiMagnitude, fromExi, magnitude, toExi, type ExiPhysicalValue } from '../physical.js';
import { HLC, type HlcSessionState, type PhysicalUnit } from '../topics.js';
import { CHARGE_SERVICE_ID, dcEvseChargeParameter, dcEvseStatus, failedBody, saScheduleList, serviceDiscoveryContent, type DinResponseCode } from './messages.js';

export interface DinSeccConfig {
  /** EVSEID of SessionSetupRes, hex (DIN 70121: hexBinary). */
  readonly evseId: string;
  /** EVSEProcessing=Ongoing may last this long in one step before the session fails (V2G_SECC_Ongoing_Timeout, 60 s). */
  readonly ongoingTimeoutMs: number;
  /** Contactor feedback for PowerDelivery must come within this, else FAILED_PowerDeliveryNotApplied. */
  readonly powerDeliveryTimeoutMs: number;
  /** Energy transfer type offered in ServiceDiscoveryRes. */
  readonly energyTransferType: 'DC_core' | 'DC_extended' | 'DC_combo_core' | 'DC_dual';
  /** Answer CableCheck with Ongoing until the CP is in C/D (DIN 70121 expects the EV in C). */
  readonly cableCheckNeedsStateC: boolean;
}

export const DEFAULT_DIN_SECC_CONFIG: DinSeccConfig = {
  evseId: '5a5a3030303030',
  ongoingTimeoutMs: 60_000,
  powerDeliveryTimeoutMs: 1_500,
  energyTransferType: 'DC_extended',
  cableCheckNeedsStateC: false,
};

/** What the owner does after a response: keep going (and arm the sequence timer) or close. */
export interface DinOutcome {
  /** The response document, or undefined when none can be given (undecodable request). */
  readonly response: Record<string, unknown> | undefined;
  readonly responseName: string | undefined;
  readonly responseCode: string | undefined;
  /** The connection ends after this response. */
  readonly close: boolean;
  readonly stopReason?: string;
}

export interface DinSeccHooks {
  /** Called synchronously before the contactors are asked to close (on) or open (off). */
  onPowerDelivery?(on: boolean): void;
  /** Every state change. */
  onState?(state: HlcSessionState): void;
}

type Stage =
  | 'start'
  | 'session_setup'
  | 'service_discovery'
  | 'payment_selection'
  | 'authorization'
  | 'authorized'
  | 'charge_parameter_discovery'
  | 'parameters_done'
  | 'cable_check'
  | 'cable_checked'
  | 'pre_charge'
  | 'charging'
  | 'power_delivery_stop'
  | 'welding_detection'
  | 'ended';

/** Requests accepted after each stage; SessionStopReq is accepted at any stage after SessionSetup (real EVs stop early). */
const NEXT: Record<Stage, readonly string[]> = {
  start: ['SessionSetupReq'],
  session_setup: ['ServiceDiscoveryReq'],
  service_discovery: ['ServicePaymentSelectionReq'],
  payment_selection: ['ContractAuthenticationReq'],
  authorization: ['ContractAuthenticationReq'],
  authorized: ['ChargeParameterDiscoveryReq'],
  charge_parameter_discovery: ['ChargeParameterDiscoveryReq'],
  parameters_done: ['CableCheckReq'],
  cable_check: ['CableCheckReq'],
  cable_checked: ['PreChargeReq'],
  pre_charge: ['PreChargeReq', 'PowerDeliveryReq'],
  charging: ['CurrentDemandReq', 'PowerDeliveryReq'],
  power_delivery_stop: ['WeldingDetectionReq'],
  welding_detection: ['WeldingDetectionReq'],
  ended: [],
};

interface DcEvStatus {
  EVReady: boolean;
  EVErrorCode: string;
  EVRESSSOC: number;
}

export class DinProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DinProtocolError';
  }
}

export class DinSeccSession {
  private stage: Stage = 'start';
  private sessionIdHex = '';
  private ongoingSince: number | undefined;
  private ongoingStep: string | undefined;
  private contactorsClosed = false;
  private opening: Promise<boolean> | undefined;
  private readonly config: DinSeccConfig;
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      readonly evse: EvseDataSource;
      readonly report: HlcReporter;
      readonly log: Logger;
      readonly port?: V2gChargingPort;
      readonly hooks?: DinSeccHooks;
      readonly config?: Partial<DinSeccConfig>;
      /** The SessionID of the previous session on this plug-in (for OK_OldSessionJoined). */
      readonly previousSessionId?: string;
      readonly now?: () => number;
    },
  ) {
    this.config = { ...DEFAULT_DIN_SECC_CONFIG, ...deps.config };
    this.log = deps.log.child({ protocol: 'din70121' });
  }

  get sessionId(): string {
    return this.sessionIdHex;
  }

  get ended(): boolean {
    return this.stage === 'ended';
  }

  /** Whether the contactors were closed by this session and not yet opened. */
  get powerDelivered(): boolean {
    return this.contactorsClosed;
  }

  /** Handle one decoded request (a `{V2G_Message: …}` document). */
  handle(document: unknown): DinOutcome | Promise<DinOutcome> {
    let name: string;
    let body: Record<string, unknown>;
    let sessionId: string;
    try {
      ({ name, body, sessionId } = parseRequest(document));
    } catch (error) {
      this.log.warn({ reason: (error as Error).message }, 'request not understood: closing');
      return this.end({ response: undefined, responseName: undefined, responseCode: undefined, close: true, stopReason: `protocol error: ${(error as Error).message}` });
    }
    if (this.stage === 'ended') return this.fail(name, 'FAILED_SequenceError', 'request after the session ended');
    if (name !== 'SessionSetupReq' && this.stage !== 'start' && sessionId !== this.sessionIdHex) {
      return this.fail(name, 'FAILED_UnknownSession', `SessionID ${sessionId} is not the session's ${this.sessionIdHex}`);
    }
    const allowed = NEXT[this.stage].includes(name) || (name === 'SessionStopReq' && this.stage !== 'start');
    if (!allowed) return this.fail(name, 'FAILED_SequenceError', `${name} not expected after ${this.stage}`);
    switch (name) {
      case 'SessionSetupReq':
        return this.sessionSetup(body, sessionId);
      case 'ServiceDiscoveryReq':
        return this.serviceDiscovery();
      case 'ServicePaymentSelectionReq':
        return this.paymentSelection(body);
      case 'ContractAuthenticationReq':
        return this.contractAuthentication();
      case 'ChargeParameterDiscoveryReq':
        return this.chargeParameterDiscovery(body);
      case 'CableCheckReq':
        return this.cableCheck(body);
      case 'PreChargeReq':
        return this.preCharge(body);
      case 'PowerDeliveryReq':
        return this.powerDelivery(body);
      case 'CurrentDemandReq':
        return this.currentDemand(body);
      case 'WeldingDetectionReq':
        return this.weldingDetection(body);
      case 'SessionStopReq':
        return this.sessionStop();
      default:
        return this.fail(name, 'FAILED_SequenceError', `${name} is not supported`);
    }
  }

  /**
   * End the session from outside (unplug, CP fault, timeout, daemon stop): contactors open.
   * Returns when the contactors confirm open (or at once without a port).
   */
  async abort(reason: string): Promise<void> {
    if (this.stage === 'ended') return;
    this.log.warn({ reason }, 'session aborted');
    this.stage = 'ended';
    this.deps.report.set(HLC.session.stopReason, reason);
    this.setState('error');
    await this.openContactors();
  }

  // --- steps ---------------------------------------------------------------------------------------

  private sessionSetup(body: Record<string, unknown>, requestedId: string): DinOutcome {
    const evccId = body.EVCCID;
    if (typeof evccId !== 'string') return this.fail('SessionSetupReq', 'FAILED', 'SessionSetupReq without EVCCID');
    const joined = this.deps.previousSessionId !== undefined && requestedId === this.deps.previousSessionId && /[1-9a-f]/.test(requestedId);
    this.sessionIdHex = joined ? requestedId : newSessionId();
    this.stage = 'session_setup';
    const report = this.deps.report;
    report.set(HLC.ev.evccid, evccId.toLowerCase());
    report.set(HLC.session.id, this.sessionIdHex);
    if (!joined) {
      // A new session starts from a clean slate on the customer's side too.
      report.force(HLC.evse.authorization, 'Ongoing');
      report.force(HLC.evse.isolationStatus, 'Invalid');
      report.force(HLC.evse.stopCharging, false);
      report.force(HLC.evse.errorShutdown, false);
    }
    this.setState('session_setup');
    this.log.info({ evccId, sessionId: this.sessionIdHex, joined }, 'session set up');
    return this.ok('SessionSetupRes', { ResponseCode: joined ? 'OK_OldSessionJoined' : 'OK_NewSessionEstablished', EVSEID: this.config.evseId });
  }

  private serviceDiscovery(): DinOutcome {
    this.stage = 'service_discovery';
    this.setState('service_discovery');
    return this.ok('ServiceDiscoveryRes', { ResponseCode: 'OK', ...serviceDiscoveryContent(this.config.energyTransferType) });
  }

  private paymentSelection(body: Record<string, unknown>): DinOutcome {
    if (body.SelectedPaymentOption !== 'ExternalPayment') {
      return this.fail('ServicePaymentSelectionReq', 'FAILED_PaymentSelectionInvalid', `payment option ${String(body.SelectedPaymentOption)} not offered`);
    }
    const services = (body.SelectedServiceList as { SelectedService?: Array<{ ServiceID?: number }> } | undefined)?.SelectedService ?? [];
    if (!services.some((s) => s.ServiceID === CHARGE_SERVICE_ID) || services.some((s) => s.ServiceID !== CHARGE_SERVICE_ID)) {
      return this.fail('ServicePaymentSelectionReq', 'FAILED_ServiceSelectionInvalid', `selected services ${JSON.stringify(services)} not offered`);
    }
    this.stage = 'payment_selection';
    this.setState('payment_selection');
    return this.ok('ServicePaymentSelectionRes', { ResponseCode: 'OK' });
  }

  private contractAuthentication(): DinOutcome {
    const evse = this.deps.evse.read();
    if (this.stage !== 'authorization') {
      this.stage = 'authorization';
      this.setState('authorization');
    }
    if (evse.authorization === 'Rejected' || evse.stopCharging || evse.errorShutdown) {
      return this.fail('ContractAuthenticationReq', 'FAILED', 'authorization rejected by the EVSE');
    }
    if (evse.authorization === 'Ongoing') {
      const expired = this.ongoing('ContractAuthentication');
      if (expired) return expired;
      return this.ok('ContractAuthenticationRes', { ResponseCode: 'OK', EVSEProcessing: 'Ongoing' });
    }
    this.doneOngoing();
    this.stage = 'authorized';
    this.log.info('authorized');
    return this.ok('ContractAuthenticationRes', { ResponseCode: 'OK', EVSEProcessing: 'Finished' });
  }

  private chargeParameterDiscovery(body: Record<string, unknown>): DinOutcome {
    const name = 'ChargeParameterDiscoveryReq';
    if (this.stage !== 'charge_parameter_discovery') {
      this.stage = 'charge_parameter_discovery';
      this.setState('charge_parameter_discovery');
    }
    const type = body.EVRequestedEnergyTransferType;
    const report = this.deps.report;
    if (typeof type === 'string') report.set(HLC.ev.energyTransferType, type);
    if (typeof type !== 'string' || !type.startsWith('DC_')) return this.fail(name, 'FAILED_WrongEnergyTransferType', `energy transfer type ${String(type)} not offered`);
    const parameter = body.DC_EVChargeParameter as Record<string, unknown> | undefined;
    if (!parameter) return this.fail(name, 'FAILED_WrongChargeParameter', 'no DC_EVChargeParameter');
    this.reportEvStatus(parameter.DC_EVStatus);
    this.reportPv(HLC.ev.maxCurrent, parameter.EVMaximumCurrentLimit, 'A');
    this.reportPv(HLC.ev.maxVoltage, parameter.EVMaximumVoltageLimit, 'V');
    this.reportPv(HLC.ev.maxPower, parameter.EVMaximumPowerLimit, 'W');
    this.reportPv(HLC.ev.energyCapacity, parameter.EVEnergyCapacity, 'Wh');
    this.reportPv(HLC.ev.energyRequest, parameter.EVEnergyRequest, 'Wh');
    if (typeof parameter.FullSOC === 'number') report.set(HLC.ev.fullSoc, parameter.FullSOC);
    if (typeof parameter.BulkSOC === 'number') report.set(HLC.ev.bulkSoc, parameter.BulkSOC);

    const evse = this.deps.evse.read();
    if (this.shutdownRequested(evse)) return this.emergency(name, evse);
    if (evse.stopCharging) return this.fail(name, 'FAILED', 'charging stopped by the EVSE');
    const ready = evse.processing === 'Finished' && evse.maxVoltage !== undefined && evse.maxCurrent !== undefined;
    if (!ready) {
      const expired = this.ongoing('ChargeParameterDiscovery');
      if (expired) return expired;
      return this.ok('ChargeParameterDiscoveryRes', {
        ResponseCode: 'OK',
        EVSEProcessing: 'Ongoing',
        SAScheduleList: saScheduleList(),
        DC_EVSEChargeParameter: dcEvseChargeParameter(evse, dcEvseStatus(evse, { statusCode: 'EVSE_NotReady' })),
      });
    }
    const evMaxVoltage = exiMagnitude(parameter.EVMaximumVoltageLimit as ExiPhysicalValue | undefined);
    if (evMaxVoltage < magnitude(evse.minVoltage)) {
      return this.fail(name, 'FAILED_WrongChargeParameter', `EV maximum voltage ${evMaxVoltage} V is below the EVSE minimum ${magnitude(evse.minVoltage)} V`);
    }
    this.doneOngoing();
    this.stage = 'parameters_done';
    return this.ok('ChargeParameterDiscoveryRes', {
      ResponseCode: 'OK',
      EVSEProcessing: 'Finished',
      SAScheduleList: saScheduleList(),
      DC_EVSEChargeParameter: dcEvseChargeParameter(evse, dcEvseStatus(evse)),
    });
  }

  private cableCheck(body: Record<string, unknown>): DinOutcome {
    const name = 'CableCheckReq';
    if (this.stage !== 'cable_check') {
      this.stage = 'cable_check';
      this.setState('cable_check');
    }
    this.reportEvStatus(body.DC_EVStatus);
    const evse = this.deps.evse.read();
    if (this.shutdownRequested(evse)) return this.emergency(name, evse);
    if (evse.stopCharging) return this.fail(name, 'FAILED', 'charging stopped by the EVSE');
    if (evse.isolationStatus === 'Fault') {
      this.deps.port?.safeStop({ code: 'isolation_fault', message: 'isolation fault reported during the cable check' });
      return this.fail(name, 'FAILED', 'isolation fault');
    }
    const cpOk = !this.config.cableCheckNeedsStateC || !this.deps.port || this.deps.port.cpState === 'C' || this.deps.port.cpState === 'D';
    const done = cpOk && evse.processing === 'Finished' && (evse.isolationStatus === 'Valid' || evse.isolationStatus === 'Warning');
    if (!done) {
      const expired = this.ongoing('CableCheck');
      if (expired) return expired;
      return this.ok('CableCheckRes', { ResponseCode: 'OK', DC_EVSEStatus: dcEvseStatus(evse, { statusCode: 'EVSE_IsolationMonitoringActive' }), EVSEProcessing: 'Ongoing' });
    }
    this.doneOngoing();
    this.stage = 'cable_checked';
    this.log.info({ isolation: evse.isolationStatus }, 'cable check finished');
    return this.ok('CableCheckRes', { ResponseCode: 'OK', DC_EVSEStatus: dcEvseStatus(evse), EVSEProcessing: 'Finished' });
  }

  private preCharge(body: Record<string, unknown>): DinOutcome {
    const name = 'PreChargeReq';
    if (this.stage !== 'pre_charge') {
      this.stage = 'pre_charge';
      this.setState('pre_charge');
    }
    this.reportEvStatus(body.DC_EVStatus);
    this.reportPv(HLC.ev.targetVoltage, body.EVTargetVoltage, 'V');
    this.reportPv(HLC.ev.targetCurrent, body.EVTargetCurrent, 'A');
    const evse = this.deps.evse.read();
    if (this.shutdownRequested(evse)) return this.emergency(name, evse);
    return this.ok('PreChargeRes', { ResponseCode: 'OK', DC_EVSEStatus: this.status(evse), EVSEPresentVoltage: toExi(evse.presentVoltage) });
  }

  private async powerDelivery(body: Record<string, unknown>): Promise<DinOutcome> {
    const name = 'PowerDeliveryReq';
    const start = body.ReadyToChargeState === true;
    const parameter = body.DC_EVPowerDeliveryParameter as Record<string, unknown> | undefined;
    if (parameter) {
      this.reportEvStatus(parameter.DC_EVStatus);
      if (typeof parameter.BulkChargingComplete === 'boolean') this.deps.report.set(HLC.ev.bulkChargingComplete, parameter.BulkChargingComplete);
      if (typeof parameter.ChargingComplete === 'boolean') this.deps.report.set(HLC.ev.chargingComplete, parameter.ChargingComplete);
    }
    const evse = this.deps.evse.read();
    if (start) {
      if (this.stage === 'charging') {
        // Already delivering: a repeated start changes nothing.
        return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', DC_EVSEStatus: this.status(evse) });
      }
      if (this.shutdownRequested(evse)) return this.emergency(name, evse);
      if (evse.stopCharging) return this.fail(name, 'FAILED_PowerDeliveryNotApplied', 'charging stopped by the EVSE');
      this.setState('power_delivery');
      this.deps.hooks?.onPowerDelivery?.(true);
      const closed = await this.switchContactors(true);
      if (!closed) {
        this.deps.port?.safeStop({ code: 'power_delivery_failed', message: 'contactors did not close for PowerDelivery' });
        return this.fail(name, 'FAILED_PowerDeliveryNotApplied', 'contactors did not close');
      }
      this.stage = 'charging';
      this.setState('charging');
      this.log.info('power delivery started');
      return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', DC_EVSEStatus: this.status(this.deps.evse.read()) });
    }
    // Stop (also accepted in pre_charge: an EV may give up before charging).
    this.setState('power_delivery_stop');
    this.deps.hooks?.onPowerDelivery?.(false);
    const opened = await this.openContactors();
    if (!opened) this.log.error('contactors did not confirm open after PowerDelivery stop');
    this.stage = 'power_delivery_stop';
    this.log.info('power delivery stopped');
    return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', DC_EVSEStatus: this.status(this.deps.evse.read(), 'None') });
  }

  private currentDemand(body: Record<string, unknown>): DinOutcome {
    const report = this.deps.report;
    this.reportEvStatus(body.DC_EVStatus);
    const targetCurrent = body.EVTargetCurrent as ExiPhysicalValue | undefined;
    const targetVoltage = body.EVTargetVoltage as ExiPhysicalValue | undefined;
    this.reportPv(HLC.ev.targetCurrent, targetCurrent, 'A');
    this.reportPv(HLC.ev.targetVoltage, targetVoltage, 'V');
    this.reportPv(HLC.ev.maxVoltage, body.EVMaximumVoltageLimit, 'V');
    this.reportPv(HLC.ev.maxCurrent, body.EVMaximumCurrentLimit, 'A');
    this.reportPv(HLC.ev.maxPower, body.EVMaximumPowerLimit, 'W');
    this.reportPv(HLC.ev.remainingTimeToFullSoc, body.RemainingTimeToFullSoC, 's');
    this.reportPv(HLC.ev.remainingTimeToBulkSoc, body.RemainingTimeToBulkSoC, 's');
    if (typeof body.ChargingComplete === 'boolean') report.set(HLC.ev.chargingComplete, body.ChargingComplete);
    if (typeof body.BulkChargingComplete === 'boolean') report.set(HLC.ev.bulkChargingComplete, body.BulkChargingComplete);
    const evse = this.deps.evse.read();
    if (this.shutdownRequested(evse)) return this.emergency('CurrentDemandReq', evse);
    const current = exiMagnitude(targetCurrent);
    const voltage = exiMagnitude(targetVoltage);
    const response: Record<string, unknown> = {
      ResponseCode: 'OK',
      DC_EVSEStatus: this.status(evse),
      EVSEPresentVoltage: toExi(evse.presentVoltage),
      EVSEPresentCurrent: toExi(evse.presentCurrent),
      EVSECurrentLimitAchieved: evse.maxCurrent !== undefined && current >= magnitude(evse.maxCurrent),
      EVSEVoltageLimitAchieved: evse.maxVoltage !== undefined && voltage >= magnitude(evse.maxVoltage),
      EVSEPowerLimitAchieved: evse.maxPower !== undefined && current * voltage >= magnitude(evse.maxPower),
    };
    if (evse.maxVoltage) response.EVSEMaximumVoltageLimit = toExi(evse.maxVoltage);
    if (evse.maxCurrent) response.EVSEMaximumCurrentLimit = toExi(evse.maxCurrent);
    if (evse.maxPower) response.EVSEMaximumPowerLimit = toExi(evse.maxPower);
    return this.ok('CurrentDemandRes', response);
  }

  private weldingDetection(body: Record<string, unknown>): DinOutcome {
    if (this.stage !== 'welding_detection') {
      this.stage = 'welding_detection';
      this.setState('welding_detection');
    }
    this.reportEvStatus(body.DC_EVStatus);
    const evse = this.deps.evse.read();
    return this.ok('WeldingDetectionRes', { ResponseCode: 'OK', DC_EVSEStatus: this.status(evse, 'None'), EVSEPresentVoltage: toExi(evse.presentVoltage) });
  }

  private async sessionStop(): Promise<DinOutcome> {
    this.setState('session_stop');
    if (this.contactorsClosed) {
      this.deps.hooks?.onPowerDelivery?.(false);
      await this.openContactors();
    }
    this.log.info('session stopped by the EV');
    const outcome = this.ok('SessionStopRes', { ResponseCode: 'OK' });
    this.stage = 'ended';
    this.deps.report.set(HLC.session.stopReason, 'EV requested SessionStop');
    this.setState('stopped');
    return { ...outcome, close: true, stopReason: 'EV requested SessionStop' };
  }

  // --- helpers ---------------------------------------------------------------------------------------

  /** DC_EVSEStatus with the EVSE-side stop request folded in. */
  private status(evse: EvseData, notification?: 'None'): Record<string, unknown> {
    if (evse.stopCharging && notification === undefined) return dcEvseStatus(evse, { statusCode: 'EVSE_Shutdown', notification: 'StopCharging' });
    return dcEvseStatus(evse);
  }

  private shutdownRequested(evse: EvseData): boolean {
    return evse.errorShutdown || evse.statusCode === 'EVSE_EmergencyShutdown' || evse.statusCode === 'EVSE_Malfunction' || evse.statusCode === 'EVSE_UtilityInterruptEvent';
  }

  /** Error shutdown from the EVSE side: contactors open now, FAILED with EVSE_EmergencyShutdown, session over. */
  private emergency(requestName: string, evse: EvseData): DinOutcome {
    this.deps.port?.safeStop({ code: 'evse_error_shutdown', message: `error shutdown requested by the EVSE (${evse.statusCode})` });
    void this.openContactors();
    const statusCode = evse.statusCode === 'EVSE_Ready' || evse.statusCode === 'EVSE_NotReady' ? 'EVSE_EmergencyShutdown' : evse.statusCode;
    const [resName, resBody] = failedBody(requestName, 'FAILED', evse, this.config.evseId)!;
    if (resBody.DC_EVSEStatus) resBody.DC_EVSEStatus = dcEvseStatus(evse, { statusCode });
    const reason = 'error shutdown by the EVSE';
    this.log.warn({ request: requestName }, reason);
    return this.end({ response: this.wrap(resName, resBody), responseName: resName, responseCode: 'FAILED', close: true, stopReason: reason });
  }

  private ongoing(step: string): DinOutcome | undefined {
    const now = (this.deps.now ?? Date.now)();
    if (this.ongoingStep !== step) {
      this.ongoingStep = step;
      this.ongoingSince = now;
      return undefined;
    }
    if (now - (this.ongoingSince ?? now) > this.config.ongoingTimeoutMs) {
      return this.fail(`${step}Req`, 'FAILED', `V2G_SECC_Ongoing_Timeout: ${step} still ongoing after ${this.config.ongoingTimeoutMs} ms`);
    }
    return undefined;
  }

  private doneOngoing(): void {
    this.ongoingStep = undefined;
    this.ongoingSince = undefined;
  }

  private async switchContactors(on: boolean): Promise<boolean> {
    const port = this.deps.port;
    if (!port) {
      this.contactorsClosed = on;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.config.powerDeliveryTimeoutMs);
    });
    try {
      const ok = await Promise.race([port.requestPowerDelivery(on), timeout]);
      if (ok) this.contactorsClosed = on;
      return ok;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Command the contactors open; concurrent calls share one command (the open is always sent with a port). */
  private openContactors(): Promise<boolean> {
    if (!this.deps.port) {
      this.contactorsClosed = false;
      return Promise.resolve(true);
    }
    this.opening ??= this.switchContactors(false).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private reportEvStatus(status: unknown): void {
    if (!status || typeof status !== 'object') return;
    const s = status as Partial<DcEvStatus>;
    const report = this.deps.report;
    if (typeof s.EVRESSSOC === 'number') report.set(HLC.ev.soc, s.EVRESSSOC);
    if (typeof s.EVReady === 'boolean') report.set(HLC.ev.ready, s.EVReady);
    if (typeof s.EVErrorCode === 'string') report.set(HLC.ev.errorCode, s.EVErrorCode);
  }

  private reportPv(topic: string, value: unknown, unit: PhysicalUnit): void {
    if (!value || typeof value !== 'object') return;
    const v = value as ExiPhysicalValue;
    if (typeof v.Value !== 'number' || typeof v.Multiplier !== 'number') return;
    if (v.Unit !== undefined && v.Unit !== unit) {
      this.log.warn({ topic, unit: v.Unit, expected: unit }, 'physical value with an unexpected unit not reported');
      return;
    }
    this.deps.report.set(topic, fromExi(v, unit));
  }

  private setState(state: HlcSessionState): void {
    this.deps.report.set(HLC.session.state, state);
    this.deps.hooks?.onState?.(state);
  }

  private wrap(name: string, body: Record<string, unknown>): Record<string, unknown> {
    return { V2G_Message: { Header: { SessionID: this.sessionIdHex || '00' }, Body: { [name]: body } } };
  }

  private ok(name: string, body: Record<string, unknown>): DinOutcome {
    return { response: this.wrap(name, body), responseName: name, responseCode: body.ResponseCode as string, close: false };
  }

  private fail(requestName: string, code: DinResponseCode, why: string): DinOutcome {
    this.log.warn({ request: requestName, code, why }, `answering ${code}`);
    const built = failedBody(requestName, code, this.deps.evse.read(), this.config.evseId);
    const stopReason = `${code}: ${why}`;
    if (!built) return this.end({ response: undefined, responseName: undefined, responseCode: undefined, close: true, stopReason });
    const [name, body] = built;
    return this.end({ response: this.wrap(name, body), responseName: name, responseCode: code, close: true, stopReason });
  }

  /** The session is over after this outcome: contactors open, state error. */
  private end(outcome: DinOutcome): DinOutcome {
    if (this.stage !== 'ended') {
      this.stage = 'ended';
      if (outcome.stopReason) this.deps.report.set(HLC.session.stopReason, outcome.stopReason);
      this.setState('error');
      void this.openContactors();
    }
    return outcome;
  }
}

function parseRequest(document: unknown): { name: string; body: Record<string, unknown>; sessionId: string } {
  const message = (document as { V2G_Message?: { Header?: { SessionID?: unknown }; Body?: Record<string, unknown> } } | undefined)?.V2G_Message;
  if (!message || typeof message !== 'object') throw new DinProtocolError('not a V2G_Message');
  const sessionId = message.Header?.SessionID;
  if (typeof sessionId !== 'string') throw new DinProtocolError('V2G_Message without Header/SessionID');
  const keys = Object.keys(message.Body ?? {});
  if (keys.length !== 1) throw new DinProtocolError(`Body has ${keys.length} elements, expected one`);
  const name = keys[0]!;
  if (!name.endsWith('Req')) throw new DinProtocolError(`${name} is not a request`);
  const body = message.Body![name];
  return { name, body: body && typeof body === 'object' ? (body as Record<string, unknown>) : {}, sessionId: sessionId.toLowerCase() };
}

function newSessionId(): string {
  let id: string;
  do id = randomBytes(8).toString('hex');
  while (id === '0000000000000000');
  return id;
}
