/**
 * Builders for ISO 15118-2 response bodies (JSON mapping of CONTRACTS.md, schema 'iso2'). Every
 * response type has its mandatory elements filled, so that a FAILED_* answer encodes as well as an
 * OK one.
 */
import type { EvseData } from '../evse-data.js';
import { toExi } from '../physical.js';
import type { PhysicalValue } from '../topics.js';
import type { Iso2EvseData } from './evse-data.js';

export type Iso2ResponseCode =
  | 'OK'
  | 'OK_NewSessionEstablished'
  | 'OK_OldSessionJoined'
  | 'OK_CertificateExpiresSoon'
  | 'FAILED'
  | 'FAILED_SequenceError'
  | 'FAILED_ServiceIDInvalid'
  | 'FAILED_UnknownSession'
  | 'FAILED_ServiceSelectionInvalid'
  | 'FAILED_PaymentSelectionInvalid'
  | 'FAILED_CertificateExpired'
  | 'FAILED_SignatureError'
  | 'FAILED_NoCertificateAvailable'
  | 'FAILED_CertChainError'
  | 'FAILED_ChallengeInvalid'
  | 'FAILED_ContractCanceled'
  | 'FAILED_WrongChargeParameter'
  | 'FAILED_PowerDeliveryNotApplied'
  | 'FAILED_TariffSelectionInvalid'
  | 'FAILED_ChargingProfileInvalid'
  | 'FAILED_MeteringSignatureNotValid'
  | 'FAILED_NoChargeServiceSelected'
  | 'FAILED_WrongEnergyTransferMode'
  | 'FAILED_ContactorError'
  | 'FAILED_CertificateNotAllowedAtThisEVSE'
  | 'FAILED_CertificateRevoked';

/** The charge service (ISO 15118-2: ServiceID 1, category EVCharging). */
export const ISO2_CHARGE_SERVICE_ID = 1;

export type EvseNotification = 'None' | 'StopCharging' | 'ReNegotiation';

export interface StatusOptions {
  readonly statusCode?: string;
  readonly notification?: EvseNotification;
  readonly maxDelayS?: number;
}

export function dcEvseStatus(evse: EvseData, options: StatusOptions = {}): Record<string, unknown> {
  return {
    EVSEIsolationStatus: evse.isolationStatus,
    EVSEStatusCode: options.statusCode ?? evse.statusCode,
    NotificationMaxDelay: options.maxDelayS ?? 0,
    EVSENotification: options.notification ?? 'None',
  };
}

export function acEvseStatus(extra: Pick<Iso2EvseData, 'rcd'>, options: StatusOptions = {}): Record<string, unknown> {
  return { NotificationMaxDelay: options.maxDelayS ?? 0, EVSENotification: options.notification ?? 'None', RCD: extra.rcd };
}

const ZERO = (unit: 'V' | 'A' | 'W'): Record<string, unknown> => ({ Multiplier: 0, Unit: unit, Value: 0 });

export function dcEvseChargeParameter(evse: EvseData, status: Record<string, unknown>): Record<string, unknown> {
  const parameter: Record<string, unknown> = {
    DC_EVSEStatus: status,
    EVSEMaximumCurrentLimit: evse.maxCurrent ? toExi(evse.maxCurrent) : ZERO('A'),
    EVSEMaximumPowerLimit: evse.maxPower ? toExi(evse.maxPower) : ZERO('W'),
    EVSEMaximumVoltageLimit: evse.maxVoltage ? toExi(evse.maxVoltage) : ZERO('V'),
    EVSEMinimumCurrentLimit: toExi(evse.minCurrent),
    EVSEMinimumVoltageLimit: toExi(evse.minVoltage),
    EVSEPeakCurrentRipple: toExi(evse.peakCurrentRipple),
  };
  if (evse.currentRegulationTolerance) parameter.EVSECurrentRegulationTolerance = toExi(evse.currentRegulationTolerance);
  if (evse.energyToBeDelivered) parameter.EVSEEnergyToBeDelivered = toExi(evse.energyToBeDelivered);
  return parameter;
}

export function acEvseChargeParameter(nominalVoltage: PhysicalValue, maxCurrent: PhysicalValue | undefined, status: Record<string, unknown>): Record<string, unknown> {
  return { AC_EVSEStatus: status, EVSENominalVoltage: toExi(nominalVoltage), EVSEMaxCurrent: maxCurrent ? toExi(maxCurrent) : ZERO('A') };
}

export function serviceDiscoveryContent(modes: readonly string[], paymentOptions: readonly string[]): Record<string, unknown> {
  return {
    PaymentOptionList: { PaymentOption: [...paymentOptions] },
    ChargeService: {
      ServiceID: ISO2_CHARGE_SERVICE_ID,
      ServiceCategory: 'EVCharging',
      FreeService: false,
      SupportedEnergyTransferMode: { EnergyTransferMode: [...modes] },
    },
  };
}

/** MeterInfo element from the customer's topic. */
export function meterInfoElement(meter: NonNullable<Iso2EvseData['meterInfo']>): Record<string, unknown> {
  const element: Record<string, unknown> = { MeterID: meter.meterId };
  if (meter.meterReading !== undefined) element.MeterReading = meter.meterReading;
  if (meter.meterStatus !== undefined) element.MeterStatus = meter.meterStatus;
  if (meter.tMeter !== undefined) element.TMeter = meter.tMeter;
  return element;
}

export interface FailedBodyContext {
  readonly evse: EvseData;
  readonly extra: Iso2EvseData;
  readonly evseId: string;
  /** AC or DC: which EVSEStatus / charge parameter the response carries. */
  readonly ac: boolean;
  readonly nominalVoltage: PhysicalValue;
  readonly modes: readonly string[];
  readonly paymentOptions: readonly string[];
  readonly saScheduleTupleId: number;
}

/**
 * The response for a request name with the given code and otherwise neutral content: for FAILED_*
 * answers where the normal handler does not run (sequence errors, unknown session, …).
 */
export function failedBody(requestName: string, code: Iso2ResponseCode, c: FailedBodyContext): [string, Record<string, unknown>] | undefined {
  const dc = () => dcEvseStatus(c.evse, { statusCode: 'EVSE_Shutdown' });
  const ac = () => acEvseStatus(c.extra);
  const status = () => (c.ac ? { AC_EVSEStatus: ac() } : { DC_EVSEStatus: dc() });
  const presentVoltage = () => toExi(c.evse.presentVoltage);
  const dummyKey = (id: string, bytes: number) => ({ Id: id, CONTENT: '00'.repeat(bytes) });
  switch (requestName) {
    case 'SessionSetupReq':
      return ['SessionSetupRes', { ResponseCode: code, EVSEID: c.evseId }];
    case 'ServiceDiscoveryReq':
      return ['ServiceDiscoveryRes', { ResponseCode: code, ...serviceDiscoveryContent(c.modes, c.paymentOptions) }];
    case 'ServiceDetailReq':
      return ['ServiceDetailRes', { ResponseCode: code, ServiceID: ISO2_CHARGE_SERVICE_ID }];
    case 'PaymentServiceSelectionReq':
      return ['PaymentServiceSelectionRes', { ResponseCode: code }];
    case 'PaymentDetailsReq':
      return ['PaymentDetailsRes', { ResponseCode: code, GenChallenge: '00'.repeat(16), EVSETimeStamp: Math.floor(Date.now() / 1000) }];
    case 'CertificateInstallationReq':
    case 'CertificateUpdateReq':
      return [
        requestName.replace(/Req$/, 'Res'),
        {
          ResponseCode: code,
          SAProvisioningCertificateChain: { Certificate: '00' },
          ContractSignatureCertChain: { Id: 'id2', Certificate: '00' },
          ContractSignatureEncryptedPrivateKey: dummyKey('id3', 48),
          DHpublickey: dummyKey('id4', 65),
          eMAID: { Id: 'id5', CONTENT: 'ZZ00000000000' },
        },
      ];
    case 'AuthorizationReq':
      return ['AuthorizationRes', { ResponseCode: code, EVSEProcessing: 'Finished' }];
    case 'ChargeParameterDiscoveryReq':
      return [
        'ChargeParameterDiscoveryRes',
        {
          ResponseCode: code,
          EVSEProcessing: 'Finished',
          ...(c.ac ? { AC_EVSEChargeParameter: acEvseChargeParameter(c.nominalVoltage, c.extra.acMaxCurrent, ac()) } : { DC_EVSEChargeParameter: dcEvseChargeParameter(c.evse, dc()) }),
        },
      ];
    case 'CableCheckReq':
      return ['CableCheckRes', { ResponseCode: code, DC_EVSEStatus: dc(), EVSEProcessing: 'Finished' }];
    case 'PreChargeReq':
      return ['PreChargeRes', { ResponseCode: code, DC_EVSEStatus: dc(), EVSEPresentVoltage: presentVoltage() }];
    case 'PowerDeliveryReq':
      return ['PowerDeliveryRes', { ResponseCode: code, ...status() }];
    case 'ChargingStatusReq':
      return ['ChargingStatusRes', { ResponseCode: code, EVSEID: c.evseId, SAScheduleTupleID: c.saScheduleTupleId, AC_EVSEStatus: ac() }];
    case 'CurrentDemandReq':
      return [
        'CurrentDemandRes',
        {
          ResponseCode: code,
          DC_EVSEStatus: dc(),
          EVSEPresentVoltage: presentVoltage(),
          EVSEPresentCurrent: toExi(c.evse.presentCurrent),
          EVSECurrentLimitAchieved: false,
          EVSEVoltageLimitAchieved: false,
          EVSEPowerLimitAchieved: false,
          EVSEID: c.evseId,
          SAScheduleTupleID: c.saScheduleTupleId,
        },
      ];
    case 'MeteringReceiptReq':
      return ['MeteringReceiptRes', { ResponseCode: code, ...status() }];
    case 'WeldingDetectionReq':
      return ['WeldingDetectionRes', { ResponseCode: code, DC_EVSEStatus: dc(), EVSEPresentVoltage: presentVoltage() }];
    case 'SessionStopReq':
      return ['SessionStopRes', { ResponseCode: code }];
    default:
      return undefined;
  }
}
