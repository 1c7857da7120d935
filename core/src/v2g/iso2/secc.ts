/**
 * The ISO 15118-2 SECC (AC and DC, external identification) as a state machine over decoded
 * documents (schema 'iso2'): one instance per V2G connection, the same shape as the DIN 70121 SECC
 * (handle → outcome; the owner sends, arms timers and closes), so that the connection session
 * dispatches by negotiated protocol.
 *
 * Beyond DIN: ServiceDetail, AC (ChargingStatus), SAScheduleList with PMax schedules and sales
 * tariffs and the EV's ChargingProfile checked against them, MeteringReceipt, SessionStop with
 * Pause (the SessionID is kept; an EV that wakes up joins it again with OK_OldSessionJoined), and
 * renegotiation, triggered by the EVSE (EVSENotification=ReNegotiation from ci/hlc/evse/renegotiate)
 * or by the EV (PowerDeliveryReq ChargeProgress=Renegotiate), without ending the session or
 * opening the contactors.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@opensecc/plugin-api';
import type { V2gChargingPort } from '../charging-port.js';
import type { DinOutcome, DinSeccHooks } from '../din/secc.js';
import type { EvseData, EvseDataSource, HlcReporter } from '../evse-data.js';
import { exiMagnitude, fromExi, fromNumber, magnitude, toExi, type ExiPhysicalValue } from '../physical.js';
import { HLC, type HlcSessionState, type PhysicalUnit, type PhysicalValue } from '../topics.js';
import { DEFAULT_ISO2_SECC_CONFIG, isAcMode, type Iso2SeccConfig } from './config.js';
import { NO_ISO2_EVSE_DATA, type Iso2EvseData, type Iso2EvseDataSource } from './evse-data.js';
import {
  acEvseChargeParameter,
  acEvseStatus,
  dcEvseChargeParameter,
  dcEvseStatus,
  failedBody,
  ISO2_CHARGE_SERVICE_ID,
  meterInfoElement,
  serviceDiscoveryContent,
  type EvseNotification,
  type Iso2ResponseCode,
} from './messages.js';
import { chargingProfileViolation, checkSchedules, defaultSchedules, saScheduleList } from './schedule.js';
import { ISO2, type SaSchedule } from './topics.js';
import { headerSignature, Iso2PncFlow } from './pnc-flow.js';
import type { Iso2PncProvider } from './pnc.js';
import { selectedServicesOf, serviceCategoryOf, serviceDetailContent, serviceListElement, type Iso2ServiceProvider, type ServiceSelectionResult } from './services.js';

/** As DIN's outcome, plus whether the EV paused (the owner keeps the SessionID for a resume). */
export interface Iso2Outcome extends DinOutcome {
  readonly paused?: boolean;
}

type Stage =
  | 'start'
  | 'session_setup'
  | 'service_discovery'
  | 'payment_selection'
  | 'certificate'
  | 'payment_details'
  | 'authorization'
  | 'authorized'
  | 'charge_parameter_discovery'
  | 'parameters_done'
  | 'cable_check'
  | 'cable_checked'
  | 'pre_charge'
  | 'charging'
  | 'renegotiation'
  | 'power_delivery_stop'
  | 'welding_detection'
  | 'ended';

export class Iso2ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Iso2ProtocolError';
  }
}

export interface Iso2SeccDeps {
  readonly evse: EvseDataSource;
  /** AC values, schedules, tariffs, meter, renegotiation request (default: nothing published). */
  readonly iso2Evse?: Iso2EvseDataSource;
  readonly report: HlcReporter;
  readonly log: Logger;
  readonly port?: V2gChargingPort;
  readonly hooks?: DinSeccHooks;
  readonly config?: Partial<Iso2SeccConfig>;
  /** The SessionID of the paused session on this plug-in: a SessionSetupReq with it joins (OK_OldSessionJoined). */
  readonly previousSessionId?: string;
  readonly now?: () => number;
  /** Plug & Charge (the pnc plugin's provider); without it Contract is not offered. */
  readonly pnc?: Iso2PncProvider;
  /** The connection is TLS-protected (ISO 15118-2 offers Contract only over TLS). */
  readonly secure?: boolean;
  /** Value-added services (the vas plugin); without it only the charge service is offered. */
  readonly services?: Iso2ServiceProvider;
}

export class Iso2SeccSession {
  private stage: Stage = 'start';
  private sessionIdHex = '';
  private ac = false;
  private mode: string | undefined;
  private offered: SaSchedule[] = [];
  private scheduleStart = 0;
  private tupleId: number | undefined;
  private renegotiating = false;
  private receiptedReading: number | undefined;
  private receiptRequested = false;
  private ongoingSince: number | undefined;
  private ongoingStep: string | undefined;
  private contactorsClosed = false;
  /** Power delivery is on (DC: contactors confirmed closed; AC: requested, closing once the EV is in C). */
  private powerOn = false;
  private acContactorFailed = false;
  private opening: Promise<boolean> | undefined;
  private readonly config: Iso2SeccConfig;
  private readonly log: Logger;
  private readonly extraSource: Iso2EvseDataSource;
  /** Plug & Charge steps (Contract payment); `contract` once the EV selected it. */
  private readonly pnc: Iso2PncFlow;
  private contract = false;

  constructor(private readonly deps: Iso2SeccDeps) {
    this.config = { ...DEFAULT_ISO2_SECC_CONFIG, ...deps.config };
    this.log = deps.log.child({ protocol: 'iso15118-2' });
    this.extraSource = deps.iso2Evse ?? NO_ISO2_EVSE_DATA;
    this.pnc = new Iso2PncFlow({ provider: deps.pnc, secure: deps.secure === true, now: () => this.now(), log: this.log });
    // Until ChargeParameterDiscovery, failed answers carry the status of the first offered mode.
    this.ac = isAcMode(this.config.energyTransferModes[0] ?? 'DC_extended');
  }

  get sessionId(): string {
    return this.sessionIdHex;
  }

  get ended(): boolean {
    return this.stage === 'ended';
  }

  get powerDelivered(): boolean {
    return this.contactorsClosed;
  }

  /** The energy transfer mode the EV chose, once ChargeParameterDiscovery succeeded. */
  get energyTransferMode(): string | undefined {
    return this.mode;
  }

  /** Handle one decoded request (a `{V2G_Message: …}` document of schema 'iso2'). */
  handle(document: unknown): Iso2Outcome | Promise<Iso2Outcome> {
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
    const allowed = this.expected().includes(name) || (name === 'SessionStopReq' && this.stage !== 'start');
    if (!allowed) return this.fail(name, 'FAILED_SequenceError', `${name} not expected after ${this.stage}${this.mode ? ` (${this.mode})` : ''}`);
    switch (name) {
      case 'SessionSetupReq':
        return this.sessionSetup(body, sessionId);
      case 'ServiceDiscoveryReq':
        return this.serviceDiscovery(body);
      case 'ServiceDetailReq':
        return this.serviceDetail(body);
      case 'PaymentServiceSelectionReq':
        return this.paymentSelection(body);
      case 'PaymentDetailsReq':
        return this.paymentDetails(body);
      case 'CertificateInstallationReq':
      case 'CertificateUpdateReq':
        return this.certificate(name, body, document);
      case 'AuthorizationReq':
        return this.authorization(body, document);
      case 'ChargeParameterDiscoveryReq':
        return this.chargeParameterDiscovery(body);
      case 'CableCheckReq':
        return this.cableCheck(body);
      case 'PreChargeReq':
        return this.preCharge(body);
      case 'PowerDeliveryReq':
        return this.powerDelivery(body);
      case 'ChargingStatusReq':
        return this.chargingStatus();
      case 'CurrentDemandReq':
        return this.currentDemand(body);
      case 'MeteringReceiptReq':
        return this.meteringReceipt(body, document);
      case 'WeldingDetectionReq':
        return this.weldingDetection(body);
      case 'SessionStopReq':
        return this.sessionStop(body);
      default:
        return this.fail(name, 'FAILED_SequenceError', `${name} is not supported`);
    }
  }

  /** End the session from outside (unplug, CP fault, timeout, daemon stop): contactors open. */
  async abort(reason: string): Promise<void> {
    if (this.stage === 'ended') return;
    this.log.warn({ reason }, 'session aborted');
    this.stage = 'ended';
    this.deps.report.set(HLC.session.stopReason, reason);
    this.setState('error');
    this.powerOn = false;
    await this.openContactors();
  }

  /** Requests accepted in the current stage (SessionStopReq is accepted at any stage after SessionSetup). */
  private expected(): readonly string[] {
    switch (this.stage) {
      case 'start':
        return ['SessionSetupReq'];
      case 'session_setup':
        return ['ServiceDiscoveryReq'];
      case 'service_discovery':
        return ['ServiceDetailReq', 'PaymentServiceSelectionReq'];
      case 'payment_selection':
        // Contract: certificate installation/update, then PaymentDetails, before Authorization.
        return this.contract ? ['PaymentDetailsReq', 'CertificateInstallationReq', 'CertificateUpdateReq'] : ['AuthorizationReq'];
      case 'certificate':
        return ['PaymentDetailsReq'];
      case 'payment_details':
      case 'authorization':
        return ['AuthorizationReq'];
      case 'authorized':
      case 'charge_parameter_discovery':
      case 'renegotiation':
        return ['ChargeParameterDiscoveryReq'];
      case 'parameters_done':
        // After a renegotiation the contactors are closed already: straight to PowerDelivery.
        return this.ac || this.renegotiating ? ['PowerDeliveryReq'] : ['CableCheckReq'];
      case 'cable_check':
        return ['CableCheckReq'];
      case 'cable_checked':
        return ['PreChargeReq'];
      case 'pre_charge':
        return ['PreChargeReq', 'PowerDeliveryReq'];
      case 'charging':
        return [this.ac ? 'ChargingStatusReq' : 'CurrentDemandReq', 'MeteringReceiptReq', 'PowerDeliveryReq'];
      case 'power_delivery_stop':
        return this.ac ? [] : ['WeldingDetectionReq'];
      case 'welding_detection':
        return ['WeldingDetectionReq'];
      case 'ended':
        return [];
    }
  }

  // --- steps ---------------------------------------------------------------------------------------

  private sessionSetup(body: Record<string, unknown>, requestedId: string): Iso2Outcome {
    const evccId = body.EVCCID;
    if (typeof evccId !== 'string') return this.fail('SessionSetupReq', 'FAILED', 'SessionSetupReq without EVCCID');
    const joined = this.deps.previousSessionId !== undefined && requestedId === this.deps.previousSessionId.toLowerCase() && /[1-9a-f]/.test(requestedId);
    this.sessionIdHex = joined ? requestedId : newSessionId();
    this.stage = 'session_setup';
    const report = this.deps.report;
    report.set(HLC.ev.evccid, evccId.toLowerCase());
    report.set(HLC.session.id, this.sessionIdHex);
    report.set(ISO2.session.paused, false);
    report.set(ISO2.session.renegotiation, false);
    // No contract until PaymentDetails says so: no stale eMAID of an earlier session for the backend.
    report.set(ISO2.ev.emaid, null);
    this.extraSource.clearRenegotiation?.();
    if (!joined) {
      // A new session starts from a clean slate on the customer's side; a resumed one keeps its authorization.
      report.force(HLC.evse.authorization, 'Ongoing');
      report.force(HLC.evse.isolationStatus, 'Invalid');
      report.force(HLC.evse.stopCharging, false);
      report.force(HLC.evse.errorShutdown, false);
    } else {
      report.force(HLC.evse.isolationStatus, 'Invalid');
    }
    this.setState('session_setup');
    this.log.info({ evccId, sessionId: this.sessionIdHex, joined }, joined ? 'paused session resumed' : 'session set up');
    return this.ok('SessionSetupRes', {
      ResponseCode: joined ? 'OK_OldSessionJoined' : 'OK_NewSessionEstablished',
      EVSEID: this.config.evseId,
      EVSETimeStamp: Math.floor(this.now() / 1000),
    });
  }

  private serviceDiscovery(body: Record<string, unknown>): Iso2Outcome {
    this.stage = 'service_discovery';
    this.setState('service_discovery');
    // The charge service is always listed (ChargeService); ServiceScope and ServiceCategory filter the ServiceList.
    const scope = typeof body.ServiceScope === 'string' ? body.ServiceScope : undefined;
    const category = serviceCategoryOf(body.ServiceCategory);
    const offered = this.askServices('list', [], (p) => p.list({ ...(scope !== undefined ? { scope } : {}), ...(category ? { category } : {}) }, { sessionId: this.sessionIdHex }));
    const serviceList = serviceListElement(offered);
    return this.ok('ServiceDiscoveryRes', { ResponseCode: 'OK', ...serviceDiscoveryContent(this.config.energyTransferModes, this.paymentOptions()), ...(serviceList ? { ServiceList: serviceList } : {}) });
  }

  private serviceDetail(body: Record<string, unknown>): Iso2Outcome {
    // The charge service has no parameter sets; the others are the provider's.
    if (body.ServiceID === ISO2_CHARGE_SERVICE_ID) return this.ok('ServiceDetailRes', { ResponseCode: 'OK', ServiceID: ISO2_CHARGE_SERVICE_ID });
    const id = body.ServiceID;
    const service = typeof id === 'number' ? this.askServices('detail', undefined, (p) => p.detail(id, { sessionId: this.sessionIdHex })) : undefined;
    if (!service) return this.fail('ServiceDetailReq', 'FAILED_ServiceIDInvalid', `service ${String(id)} not offered`);
    return this.ok('ServiceDetailRes', { ResponseCode: 'OK', ...serviceDetailContent(service) });
  }

  /** Ask the value-added services provider; a provider that throws counts as offering nothing. */
  private askServices<T>(what: string, fallback: T, ask: (provider: Iso2ServiceProvider) => T): T {
    const provider = this.deps.services;
    if (!provider) return fallback;
    try {
      return ask(provider);
    } catch (error) {
      this.log.error({ err: error, call: what }, 'value-added services provider failed');
      return fallback;
    }
  }

  private paymentSelection(body: Record<string, unknown>): Iso2Outcome {
    const name = 'PaymentServiceSelectionReq';
    const option = body.SelectedPaymentOption;
    if (typeof option !== 'string' || !this.paymentOptions().includes(option)) {
      return this.fail(name, 'FAILED_PaymentSelectionInvalid', `payment option ${String(option)} not offered`);
    }
    const services = selectedServicesOf(body);
    if (!services.some((s) => s.serviceId === ISO2_CHARGE_SERVICE_ID)) return this.fail(name, 'FAILED_NoChargeServiceSelected', 'the charge service was not selected');
    const extra = services.filter((s) => s.serviceId !== ISO2_CHARGE_SERVICE_ID);
    if (extra.length > 0 || this.deps.services) {
      const fallback: ServiceSelectionResult = extra.length > 0 ? { ok: false, reason: `service ${String(extra[0]!.serviceId)} not offered` } : { ok: true };
      const selection = this.askServices('select', fallback, (p) => p.select(extra, { sessionId: this.sessionIdHex }));
      if (!selection.ok) return this.fail(name, 'FAILED_ServiceSelectionInvalid', selection.reason);
    }
    this.deps.report.set(ISO2.session.paymentOption, option);
    this.contract = option === 'Contract';
    this.stage = 'payment_selection';
    this.setState('payment_selection');
    return this.ok('PaymentServiceSelectionRes', { ResponseCode: 'OK' });
  }

  private authorization(body: Record<string, unknown>, document: unknown): Iso2Outcome {
    if (this.contract) {
      // Plug & Charge: GenChallenge and the contract signature first, then the customer's decision on the eMAID.
      const checked = this.pnc.authorization(body, headerSignature(document));
      if (!checked.ok) return this.fail('AuthorizationReq', checked.code, checked.why);
    }
    const evse = this.deps.evse.read();
    if (this.stage !== 'authorization') {
      this.stage = 'authorization';
      this.setState('authorization');
    }
    if (evse.authorization === 'Rejected' || evse.stopCharging || evse.errorShutdown) return this.fail('AuthorizationReq', 'FAILED', 'authorization rejected by the EVSE');
    if (evse.authorization === 'Ongoing') {
      const expired = this.ongoing('Authorization');
      if (expired) return expired;
      return this.ok('AuthorizationRes', { ResponseCode: 'OK', EVSEProcessing: 'Ongoing' });
    }
    this.doneOngoing();
    this.stage = 'authorized';
    this.log.info('authorized');
    return this.ok('AuthorizationRes', { ResponseCode: 'OK', EVSEProcessing: 'Finished' });
  }

  // --- Plug & Charge (Contract payment; see pnc-flow.ts) ----------------------------------------------

  /**
   * The payment options offered: the configured ones, Contract only while Plug & Charge can work
   * on this connection (provider registered, TLS, the SECC's own certificate valid). An EV that
   * selects Contract anyway gets FAILED_PaymentSelectionInvalid.
   */
  private paymentOptions(): string[] {
    const configured = this.config.paymentOptions as readonly string[];
    if (!configured.includes('Contract')) return [...configured];
    this.contractOffer ??= this.pnc.offer();
    if (this.contractOffer.ok) return [...configured];
    const rest = configured.filter((o) => o !== 'Contract');
    if (!this.contractOfferLogged) {
      this.contractOfferLogged = true;
      this.log.warn({ reason: this.contractOffer.reason }, rest.length > 0 ? 'Contract payment not offered' : 'Contract payment not offered: offering ExternalPayment instead');
    }
    return rest.length > 0 ? rest : ['ExternalPayment'];
  }

  private contractOffer: { ok: true } | { ok: false; reason: string } | undefined;
  private contractOfferLogged = false;

  private paymentDetails(body: Record<string, unknown>): Iso2Outcome {
    const name = 'PaymentDetailsReq';
    this.setState('payment_details');
    if (typeof body.eMAID === 'string') this.deps.report.set(ISO2.ev.emaid, body.eMAID);
    const step = this.pnc.paymentDetails(body);
    if (!step.ok) return this.fail(name, step.code, step.why);
    this.stage = 'payment_details';
    this.log.info({ emaid: this.pnc.emaid }, 'contract certificate accepted');
    return this.ok('PaymentDetailsRes', step.body);
  }

  private async certificate(name: string, body: Record<string, unknown>, document: unknown): Promise<Iso2Outcome> {
    const install = name === 'CertificateInstallationReq';
    this.setState(install ? 'certificate_installation' : 'certificate_update');
    const signature = headerSignature(document);
    const step = install ? await this.pnc.certificateInstallation(body, signature, this.sessionIdHex) : await this.pnc.certificateUpdate(body, signature, this.sessionIdHex);
    if (this.stage === 'ended') return { response: undefined, responseName: undefined, responseCode: undefined, close: true, stopReason: 'session ended while waiting for the backend' };
    if (!step.ok) return this.fail(name, step.code, step.why);
    const resName = install ? 'CertificateInstallationRes' : 'CertificateUpdateRes';
    const code = String(step.body.ResponseCode);
    // The backend's body and signature go to the EV unchanged: the signature covers them.
    const header: Record<string, unknown> = { SessionID: this.sessionIdHex, ...(step.signature ? { Signature: step.signature } : {}) };
    const outcome: Iso2Outcome = { response: { V2G_Message: { Header: header, Body: { [resName]: step.body } } }, responseName: resName, responseCode: code, close: false };
    if (!code.startsWith('OK')) return this.end({ ...outcome, close: true, stopReason: `${code}: the backend refused the ${install ? 'installation' : 'update'}` });
    this.stage = 'certificate';
    this.log.info({ code }, install ? 'contract certificate installed by the backend' : 'contract certificate updated by the backend');
    return outcome;
  }

  private chargeParameterDiscovery(body: Record<string, unknown>): Iso2Outcome {
    const name = 'ChargeParameterDiscoveryReq';
    if (this.stage === 'authorized') this.stage = 'charge_parameter_discovery';
    // A renegotiation keeps the session state 'charging' (power stays on); ci/hlc/session/renegotiation tells it apart.
    if (this.ongoingStep !== 'ChargeParameterDiscovery' && !this.renegotiating) this.setState('charge_parameter_discovery');
    const mode = body.RequestedEnergyTransferMode;
    const report = this.deps.report;
    if (typeof mode === 'string') report.set(HLC.ev.energyTransferType, mode);
    if (typeof mode !== 'string' || !(this.config.energyTransferModes as readonly string[]).includes(mode)) {
      return this.fail(name, 'FAILED_WrongEnergyTransferMode', `energy transfer mode ${String(mode)} not offered`);
    }
    if (this.renegotiating && this.mode !== undefined && mode !== this.mode) {
      return this.fail(name, 'FAILED_WrongEnergyTransferMode', `renegotiation with mode ${mode}, the session charges ${this.mode}`);
    }
    const ac = isAcMode(mode);
    this.ac = ac;
    const parameter = (ac ? body.AC_EVChargeParameter : body.DC_EVChargeParameter) as Record<string, unknown> | undefined;
    if (!parameter) return this.fail(name, 'FAILED_WrongChargeParameter', `${mode} needs ${ac ? 'AC' : 'DC'}_EVChargeParameter`);
    if (typeof parameter.DepartureTime === 'number') report.set(ISO2.ev.departureTime, parameter.DepartureTime);
    if (ac) {
      this.reportPv(ISO2.ev.eAmount, parameter.EAmount, 'Wh');
      this.reportPv(ISO2.ev.acMaxVoltage, parameter.EVMaxVoltage, 'V');
      this.reportPv(ISO2.ev.acMaxCurrent, parameter.EVMaxCurrent, 'A');
      this.reportPv(ISO2.ev.acMinCurrent, parameter.EVMinCurrent, 'A');
    } else {
      this.reportEvStatus(parameter.DC_EVStatus);
      this.reportPv(HLC.ev.maxCurrent, parameter.EVMaximumCurrentLimit, 'A');
      this.reportPv(HLC.ev.maxVoltage, parameter.EVMaximumVoltageLimit, 'V');
      this.reportPv(HLC.ev.maxPower, parameter.EVMaximumPowerLimit, 'W');
      this.reportPv(HLC.ev.energyCapacity, parameter.EVEnergyCapacity, 'Wh');
      this.reportPv(HLC.ev.energyRequest, parameter.EVEnergyRequest, 'Wh');
      if (typeof parameter.FullSOC === 'number') report.set(HLC.ev.fullSoc, parameter.FullSOC);
      if (typeof parameter.BulkSOC === 'number') report.set(HLC.ev.bulkSoc, parameter.BulkSOC);
    }

    const evse = this.deps.evse.read();
    const extra = this.extraSource.read();
    if (this.shutdownRequested(evse)) return this.emergency(name, evse);
    if (evse.stopCharging) return this.fail(name, 'FAILED', 'charging stopped by the EVSE');
    const nominal = extra.nominalVoltage ?? this.config.nominalVoltage;
    const ready = evse.processing === 'Finished' && (ac ? extra.acMaxCurrent !== undefined : evse.maxVoltage !== undefined && evse.maxCurrent !== undefined);
    const evseParameter = (status: Record<string, unknown>) =>
      ac ? { AC_EVSEChargeParameter: acEvseChargeParameter(nominal, extra.acMaxCurrent, status) } : { DC_EVSEChargeParameter: dcEvseChargeParameter(this.dcLimits(evse), status) };
    if (!ready) {
      const expired = this.ongoing('ChargeParameterDiscovery');
      if (expired) return expired;
      const status = ac ? acEvseStatus(extra) : dcEvseStatus(evse, { statusCode: 'EVSE_NotReady' });
      return this.ok('ChargeParameterDiscoveryRes', { ResponseCode: 'OK', EVSEProcessing: 'Ongoing', ...evseParameter(status) });
    }
    if (ac) {
      const evMin = exiMagnitude(parameter.EVMinCurrent as ExiPhysicalValue | undefined);
      if (evMin > magnitude(extra.acMaxCurrent)) {
        return this.fail(name, 'FAILED_WrongChargeParameter', `EV minimum current ${evMin} A is above the EVSE maximum ${magnitude(extra.acMaxCurrent)} A`);
      }
    } else {
      const evMaxVoltage = exiMagnitude(parameter.EVMaximumVoltageLimit as ExiPhysicalValue | undefined);
      if (evMaxVoltage < magnitude(evse.minVoltage)) {
        return this.fail(name, 'FAILED_WrongChargeParameter', `EV maximum voltage ${evMaxVoltage} V is below the EVSE minimum ${magnitude(evse.minVoltage)} V`);
      }
    }
    this.doneOngoing();
    this.mode = mode;
    this.offered = this.schedules(evse, extra, mode);
    this.scheduleStart = this.now();
    this.stage = 'parameters_done';
    const maxEntries = typeof body.MaxEntriesSAScheduleTuple === 'number' ? body.MaxEntriesSAScheduleTuple : undefined;
    const status = ac ? acEvseStatus(extra) : dcEvseStatus(this.dcLimits(evse));
    this.log.info({ mode, schedules: this.offered.map((s) => s.id), renegotiation: this.renegotiating }, 'charge parameters exchanged');
    return this.ok('ChargeParameterDiscoveryRes', {
      ResponseCode: 'OK',
      EVSEProcessing: 'Finished',
      SAScheduleList: saScheduleList(this.offered, extra.salesTariff ?? this.config.salesTariff, maxEntries),
      ...evseParameter(status),
    });
  }

  private cableCheck(body: Record<string, unknown>): Iso2Outcome {
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
    return this.ok('CableCheckRes', { ResponseCode: 'OK', DC_EVSEStatus: dcEvseStatus(evse), EVSEProcessing: 'Finished' });
  }

  private preCharge(body: Record<string, unknown>): Iso2Outcome {
    if (this.stage !== 'pre_charge') {
      this.stage = 'pre_charge';
      this.setState('pre_charge');
    }
    this.reportEvStatus(body.DC_EVStatus);
    this.reportPv(HLC.ev.targetVoltage, body.EVTargetVoltage, 'V');
    this.reportPv(HLC.ev.targetCurrent, body.EVTargetCurrent, 'A');
    const evse = this.deps.evse.read();
    if (this.shutdownRequested(evse)) return this.emergency('PreChargeReq', evse);
    return this.ok('PreChargeRes', { ResponseCode: 'OK', DC_EVSEStatus: this.dcStatus(evse), EVSEPresentVoltage: toExi(evse.presentVoltage) });
  }

  private async powerDelivery(body: Record<string, unknown>): Promise<Iso2Outcome> {
    const name = 'PowerDeliveryReq';
    const progress = body.ChargeProgress;
    const report = this.deps.report;
    if (typeof progress === 'string') report.set(ISO2.ev.chargeProgress, progress);
    const parameter = body.DC_EVPowerDeliveryParameter as Record<string, unknown> | undefined;
    if (parameter) {
      this.reportEvStatus(parameter.DC_EVStatus);
      if (typeof parameter.BulkChargingComplete === 'boolean') report.set(HLC.ev.bulkChargingComplete, parameter.BulkChargingComplete);
      if (typeof parameter.ChargingComplete === 'boolean') report.set(HLC.ev.chargingComplete, parameter.ChargingComplete);
    }
    const evse = this.deps.evse.read();
    if (progress === 'Renegotiate') {
      if (this.stage !== 'charging') return this.fail(name, 'FAILED_SequenceError', `renegotiation requested in ${this.stage}, only while charging`);
      this.renegotiating = true;
      this.stage = 'renegotiation';
      report.set(ISO2.session.renegotiation, true);
      this.extraSource.clearRenegotiation?.();
      this.log.info('renegotiation started');
      return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', ...this.status(evse) });
    }
    if (progress === 'Start') {
      if (this.stage === 'charging') return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', ...this.status(evse) }); // repeated start: nothing changes
      if (this.stage !== 'pre_charge' && this.stage !== 'parameters_done') return this.fail(name, 'FAILED_SequenceError', `PowerDelivery Start in ${this.stage}`);
      const tupleId = body.SAScheduleTupleID;
      const schedule = this.offered.find((s) => s.id === tupleId);
      if (!schedule) return this.fail(name, 'FAILED_TariffSelectionInvalid', `SAScheduleTupleID ${String(tupleId)} was not offered (${this.offered.map((s) => s.id).join(', ')})`);
      if (body.ChargingProfile !== undefined) {
        const violation = chargingProfileViolation(body.ChargingProfile, schedule);
        this.reportProfile(body.ChargingProfile);
        if (violation) return this.fail(name, 'FAILED_ChargingProfileInvalid', violation);
      } else {
        report.set(ISO2.ev.chargingProfile, []);
      }
      this.tupleId = schedule.id;
      report.set(ISO2.session.saScheduleTupleId, schedule.id);
      if (this.shutdownRequested(evse)) return this.emergency(name, evse);
      const extra = this.extraSource.read();
      if (evse.stopCharging || (this.ac && extra.rcd)) return this.fail(name, 'FAILED_PowerDeliveryNotApplied', evse.stopCharging ? 'charging stopped by the EVSE' : 'RCD tripped');
      if (this.renegotiating && this.powerOn) {
        this.renegotiating = false;
        report.set(ISO2.session.renegotiation, false);
        this.stage = 'charging';
        this.log.info({ schedule: schedule.id }, 'renegotiation finished');
        return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', ...this.status(evse) });
      }
      this.setState('power_delivery');
      this.deps.hooks?.onPowerDelivery?.(true);
      if (this.ac) {
        // AC: the EV closes S2 (state C) after this response and the contactors follow the CP
        // (IEC 61851-1), so answer now and watch the contactors; a failure ends the session at the next ChargingStatus.
        this.powerOn = true;
        this.acContactorFailed = false;
        void this.switchContactors(true, this.config.acContactorTimeoutMs).then((ok) => {
          if (ok || !this.powerOn || this.stage === 'ended') return;
          this.acContactorFailed = true;
          this.log.error('contactors did not close after PowerDelivery Start (EV not in state C?)');
          this.deps.port?.safeStop({ code: 'power_delivery_failed', message: 'contactors did not close for PowerDelivery (AC)' });
        });
        this.renegotiating = false;
        report.set(ISO2.session.renegotiation, false);
        this.stage = 'charging';
        this.setState('charging');
        this.log.info({ schedule: schedule.id }, 'power delivery started (AC: contactors close in state C)');
        return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', ...this.status(this.deps.evse.read()) });
      }
      const closed = await this.switchContactors(true);
      if (!closed) {
        this.deps.port?.safeStop({ code: 'power_delivery_failed', message: 'contactors did not close for PowerDelivery' });
        return this.fail(name, 'FAILED_ContactorError', 'contactors did not close');
      }
      this.powerOn = true;
      this.renegotiating = false;
      report.set(ISO2.session.renegotiation, false);
      this.stage = 'charging';
      this.setState('charging');
      this.log.info({ schedule: schedule.id }, 'power delivery started');
      return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', ...this.status(this.deps.evse.read()) });
    }
    // Stop (also before charging began: an EV may give up after pre-charge or during renegotiation).
    this.setState('power_delivery_stop');
    this.deps.hooks?.onPowerDelivery?.(false);
    this.powerOn = false;
    const opened = await this.openContactors();
    if (!opened) this.log.error('contactors did not confirm open after PowerDelivery stop');
    this.renegotiating = false;
    report.set(ISO2.session.renegotiation, false);
    this.stage = 'power_delivery_stop';
    this.log.info('power delivery stopped');
    return this.ok('PowerDeliveryRes', { ResponseCode: 'OK', ...this.status(this.deps.evse.read(), true) });
  }

  private chargingStatus(): Iso2Outcome {
    const evse = this.deps.evse.read();
    const extra = this.extraSource.read();
    if (this.shutdownRequested(evse)) return this.emergency('ChargingStatusReq', evse);
    if (this.acContactorFailed) return this.fail('ChargingStatusReq', 'FAILED_ContactorError', `contactors did not close within ${this.config.acContactorTimeoutMs} ms of PowerDelivery Start`);
    const response: Record<string, unknown> = { ResponseCode: 'OK', EVSEID: this.config.evseId, SAScheduleTupleID: this.tupleId ?? 1 };
    if (extra.acMaxCurrent) response.EVSEMaxCurrent = toExi(extra.acMaxCurrent);
    this.addMeter(response, extra);
    response.AC_EVSEStatus = acEvseStatus(extra, this.notification(evse, extra));
    return this.ok('ChargingStatusRes', response);
  }

  private currentDemand(body: Record<string, unknown>): Iso2Outcome {
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
    const evse = this.dcLimits(this.deps.evse.read());
    const extra = this.extraSource.read();
    if (this.shutdownRequested(evse)) return this.emergency('CurrentDemandReq', evse);
    const current = exiMagnitude(targetCurrent);
    const voltage = exiMagnitude(targetVoltage);
    const response: Record<string, unknown> = {
      ResponseCode: 'OK',
      DC_EVSEStatus: dcEvseStatus(evse, this.notification(evse, extra)),
      EVSEPresentVoltage: toExi(evse.presentVoltage),
      EVSEPresentCurrent: toExi(evse.presentCurrent),
      EVSECurrentLimitAchieved: evse.maxCurrent !== undefined && current >= magnitude(evse.maxCurrent),
      EVSEVoltageLimitAchieved: evse.maxVoltage !== undefined && voltage >= magnitude(evse.maxVoltage),
      EVSEPowerLimitAchieved: evse.maxPower !== undefined && current * voltage >= magnitude(evse.maxPower),
    };
    if (evse.maxVoltage) response.EVSEMaximumVoltageLimit = toExi(evse.maxVoltage);
    if (evse.maxCurrent) response.EVSEMaximumCurrentLimit = toExi(evse.maxCurrent);
    if (evse.maxPower) response.EVSEMaximumPowerLimit = toExi(evse.maxPower);
    response.EVSEID = this.config.evseId;
    response.SAScheduleTupleID = this.tupleId ?? 1;
    this.addMeter(response, extra);
    return this.ok('CurrentDemandRes', response);
  }

  private meteringReceipt(body: Record<string, unknown>, document: unknown): Iso2Outcome {
    const name = 'MeteringReceiptReq';
    if (this.contract) {
      const checked = this.pnc.meteringReceipt(body, headerSignature(document));
      if (!checked.ok) return this.fail(name, checked.code, checked.why);
    }
    const bodySession = typeof body.SessionID === 'string' ? body.SessionID.toLowerCase() : undefined;
    if (bodySession !== this.sessionIdHex) return this.fail(name, 'FAILED_UnknownSession', `MeteringReceiptReq for session ${String(body.SessionID)}`);
    if (body.SAScheduleTupleID !== undefined && body.SAScheduleTupleID !== this.tupleId) {
      return this.fail(name, 'FAILED_TariffSelectionInvalid', `MeteringReceiptReq for schedule ${String(body.SAScheduleTupleID)}, the session uses ${String(this.tupleId)}`);
    }
    const meter = body.MeterInfo as { MeterReading?: unknown } | undefined;
    if (typeof meter?.MeterReading === 'number') this.receiptedReading = meter.MeterReading;
    this.receiptRequested = false;
    const evse = this.deps.evse.read();
    return this.ok('MeteringReceiptRes', { ResponseCode: 'OK', ...this.status(evse) });
  }

  private weldingDetection(body: Record<string, unknown>): Iso2Outcome {
    if (this.stage !== 'welding_detection') {
      this.stage = 'welding_detection';
      this.setState('welding_detection');
    }
    this.reportEvStatus(body.DC_EVStatus);
    const evse = this.deps.evse.read();
    return this.ok('WeldingDetectionRes', { ResponseCode: 'OK', DC_EVSEStatus: dcEvseStatus(evse), EVSEPresentVoltage: toExi(evse.presentVoltage) });
  }

  private async sessionStop(body: Record<string, unknown>): Promise<Iso2Outcome> {
    const pause = body.ChargingSession === 'Pause';
    if (!pause && body.ChargingSession !== 'Terminate') return this.fail('SessionStopReq', 'FAILED', `ChargingSession ${String(body.ChargingSession)}`);
    this.setState('session_stop');
    if (this.contactorsClosed || this.powerOn) {
      this.deps.hooks?.onPowerDelivery?.(false);
      this.powerOn = false;
      await this.openContactors();
    }
    const reason = pause ? 'EV paused the session' : 'EV requested SessionStop';
    this.log.info({ sessionId: this.sessionIdHex, pause }, pause ? 'session paused by the EV' : 'session stopped by the EV');
    const outcome = this.ok('SessionStopRes', { ResponseCode: 'OK' });
    this.stage = 'ended';
    this.deps.report.set(HLC.session.stopReason, reason);
    this.deps.report.set(ISO2.session.paused, pause);
    this.setState('stopped');
    return { ...outcome, close: true, stopReason: reason, paused: pause };
  }

  // --- helpers ---------------------------------------------------------------------------------------

  /** The offered schedules: the customer's topic, else the config, else the EVSE maximum for 24 h. */
  private schedules(evse: EvseData, extra: Iso2EvseData, mode: string): SaSchedule[] {
    for (const [source, schedules] of [
      [ISO2.evse.saSchedules, extra.schedules],
      ['config v2g.iso2.schedules', this.config.schedules],
    ] as const) {
      if (!schedules) continue;
      try {
        checkSchedules(schedules, source);
        return [...schedules];
      } catch (error) {
        this.log.error({ err: error }, 'schedules not usable, falling back');
      }
    }
    return defaultSchedules(this.maxPower(evse, extra, mode));
  }

  private maxPower(evse: EvseData, extra: Iso2EvseData, mode: string): PhysicalValue {
    if (!isAcMode(mode)) return this.dcLimits(evse).maxPower ?? fromNumber(this.config.defaultMaxPowerW, 'W', 0);
    if (!extra.acMaxCurrent) return fromNumber(this.config.defaultMaxPowerW, 'W', 0);
    const phases = mode === 'AC_three_phase_core' ? 3 : 1;
    const watts = magnitude(extra.nominalVoltage ?? this.config.nominalVoltage) * magnitude(extra.acMaxCurrent) * phases;
    return fromNumber(watts, 'W', 0);
  }

  /** DC EVSE data with the power limit ISO 15118-2 requires (derived from voltage × current when not published). */
  private dcLimits(evse: EvseData): EvseData {
    if (evse.maxPower || !evse.maxVoltage || !evse.maxCurrent) return evse;
    return { ...evse, maxPower: fromNumber(magnitude(evse.maxVoltage) * magnitude(evse.maxCurrent), 'W', 0) };
  }

  /** What to tell the charging EV: stop, renegotiate, or nothing. */
  private notification(evse: EvseData, extra: Iso2EvseData): { statusCode?: string; notification: EvseNotification; maxDelayS: number } {
    const maxDelayS = this.config.notificationMaxDelayS;
    if (evse.stopCharging) return { statusCode: 'EVSE_Shutdown', notification: 'StopCharging', maxDelayS };
    if (extra.renegotiate) return { notification: 'ReNegotiation', maxDelayS };
    return { notification: 'None', maxDelayS: 0 };
  }

  private status(evse: EvseData, stopped = false): Record<string, unknown> {
    if (this.ac) return { AC_EVSEStatus: acEvseStatus(this.extraSource.read()) };
    return { DC_EVSEStatus: stopped ? dcEvseStatus(evse) : this.dcStatus(evse) };
  }

  private dcStatus(evse: EvseData): Record<string, unknown> {
    if (evse.stopCharging) return dcEvseStatus(evse, { statusCode: 'EVSE_Shutdown', notification: 'StopCharging', maxDelayS: this.config.notificationMaxDelayS });
    return dcEvseStatus(evse);
  }

  private addMeter(response: Record<string, unknown>, extra: Iso2EvseData): void {
    if (!extra.meterInfo) return;
    response.MeterInfo = meterInfoElement(extra.meterInfo);
    if (!this.config.receiptRequired) return;
    const reading = extra.meterInfo.meterReading;
    // Ask once per new reading; the EV answers with MeteringReceiptReq.
    const ask = this.receiptRequested || (reading !== undefined && reading !== this.receiptedReading);
    this.receiptRequested = ask;
    response.ReceiptRequired = ask;
  }

  private reportProfile(profile: unknown): void {
    const entries = (profile as { ProfileEntry?: Array<Record<string, unknown>> }).ProfileEntry ?? [];
    const out = entries
      .filter((e) => typeof e.ChargingProfileEntryStart === 'number' && e.ChargingProfileEntryMaxPower && typeof e.ChargingProfileEntryMaxPower === 'object')
      .map((e) => {
        const power = e.ChargingProfileEntryMaxPower as ExiPhysicalValue;
        return {
          start: e.ChargingProfileEntryStart as number,
          maxPower: fromExi(power, 'W'),
          ...(typeof e.ChargingProfileEntryMaxNumberOfPhasesInUse === 'number' ? { maxPhases: e.ChargingProfileEntryMaxNumberOfPhasesInUse } : {}),
        };
      });
    this.deps.report.set(ISO2.ev.chargingProfile, out);
  }

  private shutdownRequested(evse: EvseData): boolean {
    return evse.errorShutdown || evse.statusCode === 'EVSE_EmergencyShutdown' || evse.statusCode === 'EVSE_Malfunction' || evse.statusCode === 'EVSE_UtilityInterruptEvent';
  }

  /** Error shutdown from the EVSE side: contactors open now, FAILED, session over. */
  private emergency(requestName: string, evse: EvseData): Iso2Outcome {
    this.deps.port?.safeStop({ code: 'evse_error_shutdown', message: `error shutdown requested by the EVSE (${evse.statusCode})` });
    void this.openContactors();
    const statusCode = evse.statusCode === 'EVSE_Ready' || evse.statusCode === 'EVSE_NotReady' ? 'EVSE_EmergencyShutdown' : evse.statusCode;
    const [resName, resBody] = failedBody(requestName, 'FAILED', this.failedContext())!;
    if (resBody.DC_EVSEStatus) resBody.DC_EVSEStatus = dcEvseStatus(evse, { statusCode });
    if (resBody.AC_EVSEStatus) resBody.AC_EVSEStatus = acEvseStatus(this.extraSource.read(), { notification: 'StopCharging' });
    const reason = 'error shutdown by the EVSE';
    this.log.warn({ request: requestName }, reason);
    return this.end({ response: this.wrap(resName, resBody), responseName: resName, responseCode: 'FAILED', close: true, stopReason: reason });
  }

  private ongoing(step: string): Iso2Outcome | undefined {
    const now = this.now();
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

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private async switchContactors(on: boolean, timeoutMs = this.config.powerDeliveryTimeoutMs): Promise<boolean> {
    const port = this.deps.port;
    if (!port) {
      this.contactorsClosed = on;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      const ok = await Promise.race([port.requestPowerDelivery(on), timeout]);
      if (ok) this.contactorsClosed = on;
      return ok;
    } finally {
      clearTimeout(timer);
    }
  }

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
    const s = status as { EVReady?: unknown; EVErrorCode?: unknown; EVRESSSOC?: unknown };
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

  private ok(name: string, body: Record<string, unknown>): Iso2Outcome {
    return { response: this.wrap(name, body), responseName: name, responseCode: body.ResponseCode as string, close: false };
  }

  private failedContext() {
    return {
      evse: this.deps.evse.read(),
      extra: this.extraSource.read(),
      evseId: this.config.evseId,
      ac: this.ac,
      nominalVoltage: this.config.nominalVoltage,
      modes: this.config.energyTransferModes,
      paymentOptions: this.paymentOptions(),
      saScheduleTupleId: this.tupleId ?? 1,
    };
  }

  private fail(requestName: string, code: Iso2ResponseCode, why: string): Iso2Outcome {
    this.log.warn({ request: requestName, code, why }, `answering ${code}`);
    const built = failedBody(requestName, code, this.failedContext());
    const stopReason = `${code}: ${why}`;
    if (!built) return this.end({ response: undefined, responseName: undefined, responseCode: undefined, close: true, stopReason });
    const [name, body] = built;
    return this.end({ response: this.wrap(name, body), responseName: name, responseCode: code, close: true, stopReason });
  }

  /** The session is over after this outcome: contactors open, state error. */
  private end(outcome: Iso2Outcome): Iso2Outcome {
    if (this.stage !== 'ended') {
      this.stage = 'ended';
      if (outcome.stopReason) this.deps.report.set(HLC.session.stopReason, outcome.stopReason);
      this.setState('error');
      this.powerOn = false;
      void this.openContactors();
    }
    return outcome;
  }
}

function parseRequest(document: unknown): { name: string; body: Record<string, unknown>; sessionId: string } {
  const message = (document as { V2G_Message?: { Header?: { SessionID?: unknown }; Body?: Record<string, unknown> } } | undefined)?.V2G_Message;
  if (!message || typeof message !== 'object') throw new Iso2ProtocolError('not a V2G_Message');
  const sessionId = message.Header?.SessionID;
  if (typeof sessionId !== 'string') throw new Iso2ProtocolError('V2G_Message without Header/SessionID');
  const keys = Object.keys(message.Body ?? {});
  if (keys.length !== 1) throw new Iso2ProtocolError(`Body has ${keys.length} elements, expected one`);
  const name = keys[0]!;
  if (!name.endsWith('Req')) throw new Iso2ProtocolError(`${name} is not a request`);
  const body = message.Body![name];
  return { name, body: body && typeof body === 'object' ? (body as Record<string, unknown>) : {}, sessionId: sessionId.toLowerCase() };
}

function newSessionId(): string {
  let id: string;
  do id = randomBytes(8).toString('hex');
  while (id === '0000000000000000');
  return id;
}

