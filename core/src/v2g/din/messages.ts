/**
 * Builders for DIN 70121 response bodies (JSON mapping of CONTRACTS.md). Every response type has
 * its mandatory elements filled, so a FAILED_* answer encodes as well as an OK one.
 */
import type { EvseData } from '../evse-data.js';
import { toExi } from '../physical.js';

export type DinResponseCode =
  | 'OK'
  | 'OK_NewSessionEstablished'
  | 'OK_OldSessionJoined'
  | 'FAILED'
  | 'FAILED_SequenceError'
  | 'FAILED_ServiceIDInvalid'
  | 'FAILED_UnknownSession'
  | 'FAILED_ServiceSelectionInvalid'
  | 'FAILED_PaymentSelectionInvalid'
  | 'FAILED_WrongChargeParameter'
  | 'FAILED_PowerDeliveryNotApplied'
  | 'FAILED_WrongEnergyTransferType';

/** The charge service the SECC offers (DIN 70121: one, ServiceID 1, DC). */
export const CHARGE_SERVICE_ID = 1;

export interface DcEvseStatusOptions {
  readonly statusCode?: string;
  readonly notification?: 'None' | 'StopCharging' | 'ReNegotiation';
  /** Leave EVSEIsolationStatus out (it is optional). */
  readonly withoutIsolation?: boolean;
}

export function dcEvseStatus(evse: EvseData, options: DcEvseStatusOptions = {}): Record<string, unknown> {
  const status: Record<string, unknown> = {};
  if (!options.withoutIsolation) status.EVSEIsolationStatus = evse.isolationStatus;
  status.EVSEStatusCode = options.statusCode ?? evse.statusCode;
  status.NotificationMaxDelay = 0;
  status.EVSENotification = options.notification ?? 'None';
  return status;
}

export function dcEvseChargeParameter(evse: EvseData, status: Record<string, unknown>): Record<string, unknown> {
  const zeroV = { Multiplier: 0, Unit: 'V', Value: 0 };
  const zeroA = { Multiplier: 0, Unit: 'A', Value: 0 };
  const parameter: Record<string, unknown> = {
    DC_EVSEStatus: status,
    EVSEMaximumCurrentLimit: evse.maxCurrent ? toExi(evse.maxCurrent) : zeroA,
  };
  if (evse.maxPower) parameter.EVSEMaximumPowerLimit = toExi(evse.maxPower);
  parameter.EVSEMaximumVoltageLimit = evse.maxVoltage ? toExi(evse.maxVoltage) : zeroV;
  parameter.EVSEMinimumCurrentLimit = toExi(evse.minCurrent);
  parameter.EVSEMinimumVoltageLimit = toExi(evse.minVoltage);
  if (evse.currentRegulationTolerance) parameter.EVSECurrentRegulationTolerance = toExi(evse.currentRegulationTolerance);
  parameter.EVSEPeakCurrentRipple = toExi(evse.peakCurrentRipple);
  if (evse.energyToBeDelivered) parameter.EVSEEnergyToBeDelivered = toExi(evse.energyToBeDelivered);
  return parameter;
}

/** One SAScheduleTuple without a tariff: no limit over the next 24 h (DIN: PMax as xs:short). */
export function saScheduleList(): Record<string, unknown> {
  return {
    SAScheduleTuple: [
      {
        SAScheduleTupleID: 1,
        PMaxSchedule: {
          PMaxScheduleID: 1,
          PMaxScheduleEntry: [{ RelativeTimeInterval: { start: 0, duration: 86400 }, PMax: 32767 }],
        },
      },
    ],
  };
}

/**
 * The response body for a request name with the given code and otherwise neutral content: used for
 * FAILED_* answers (sequence errors, unknown session, …) where the normal handler does not run.
 */
export function failedBody(requestName: string, code: DinResponseCode, evse: EvseData, evseId: string): [string, Record<string, unknown>] | undefined {
  const status = () => dcEvseStatus(evse, { statusCode: 'EVSE_Shutdown' });
  const presentVoltage = () => toExi(evse.presentVoltage);
  switch (requestName) {
    case 'SessionSetupReq':
      return ['SessionSetupRes', { ResponseCode: code, EVSEID: evseId }];
    case 'ServiceDiscoveryReq':
      return ['ServiceDiscoveryRes', { ResponseCode: code, ...serviceDiscoveryContent('DC_extended') }];
    case 'ServicePaymentSelectionReq':
      return ['ServicePaymentSelectionRes', { ResponseCode: code }];
    case 'ContractAuthenticationReq':
      return ['ContractAuthenticationRes', { ResponseCode: code, EVSEProcessing: 'Finished' }];
    case 'ChargeParameterDiscoveryReq':
      return ['ChargeParameterDiscoveryRes', { ResponseCode: code, EVSEProcessing: 'Finished', SAScheduleList: saScheduleList(), DC_EVSEChargeParameter: dcEvseChargeParameter(evse, status()) }];
    case 'CableCheckReq':
      return ['CableCheckRes', { ResponseCode: code, DC_EVSEStatus: status(), EVSEProcessing: 'Finished' }];
    case 'PreChargeReq':
      return ['PreChargeRes', { ResponseCode: code, DC_EVSEStatus: status(), EVSEPresentVoltage: presentVoltage() }];
    case 'PowerDeliveryReq':
      return ['PowerDeliveryRes', { ResponseCode: code, DC_EVSEStatus: status() }];
    case 'CurrentDemandReq':
      return [
        'CurrentDemandRes',
        {
          ResponseCode: code,
          DC_EVSEStatus: status(),
          EVSEPresentVoltage: presentVoltage(),
          EVSEPresentCurrent: toExi(evse.presentCurrent),
          EVSECurrentLimitAchieved: false,
          EVSEVoltageLimitAchieved: false,
          EVSEPowerLimitAchieved: false,
        },
      ];
    case 'WeldingDetectionReq':
      return ['WeldingDetectionRes', { ResponseCode: code, DC_EVSEStatus: status(), EVSEPresentVoltage: presentVoltage() }];
    case 'SessionStopReq':
      return ['SessionStopRes', { ResponseCode: code }];
    case 'ServiceDetailReq':
      return ['ServiceDetailRes', { ResponseCode: code, ServiceID: CHARGE_SERVICE_ID }];
    default:
      return undefined;
  }
}

export function serviceDiscoveryContent(energyTransferType: string): Record<string, unknown> {
  return {
    PaymentOptions: { PaymentOption: ['ExternalPayment'] },
    ChargeService: {
      ServiceTag: { ServiceID: CHARGE_SERVICE_ID, ServiceCategory: 'EVCharging' },
      FreeService: false,
      EnergyTransferType: energyTransferType,
    },
  };
}
