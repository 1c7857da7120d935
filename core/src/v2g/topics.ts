/**
 * Bus topics of high-level (DIN 70121 / ISO 15118) DC charging, registered in the topic registry and
 * so also the MQTT API (after the seed's sections 9.4–9.11). Three groups:
 * - ci/hlc/session/…: what the session does (state, protocol, id, stop reason) — the stack writes;
 * - ci/hlc/ev/…: what the EV reported (EVCCID, SoC, targets, limits, ready, errors) — the stack writes;
 * - ci/hlc/evse/…: what the customer's power electronics controller reports and decides (present
 *   voltage/current, limits, isolation, status, authorization, stop) — the customer writes.
 * Physical values are `{ value, multiplier, unit }` as in the standard: value × 10^multiplier unit.
 */
import { defineTopic, type JSONSchema, type TopicDefinition } from '@opensecc/plugin-api';

export const PHYSICAL_UNITS = ['h', 'm', 's', 'A', 'Ah', 'V', 'VA', 'W', 'W/s', 'Wh'] as const;
export type PhysicalUnit = (typeof PHYSICAL_UNITS)[number];

/** A physical value as DIN 70121 / ISO 15118-2 carry it. */
export interface PhysicalValue {
  readonly value: number;
  readonly multiplier: number;
  readonly unit: PhysicalUnit;
}

export function physicalValueSchema(unit: PhysicalUnit): JSONSchema {
  return {
    type: 'object',
    required: ['value', 'multiplier', 'unit'],
    additionalProperties: false,
    properties: {
      value: { type: 'integer', minimum: -32768, maximum: 32767, description: 'the significand (xs:short)' },
      multiplier: { type: 'integer', minimum: -3, maximum: 3, description: 'power of ten' },
      unit: { const: unit },
    },
  };
}

export const HLC_SESSION_STATES = [
  'idle',
  'sdp',
  'connected',
  'app_handshake',
  'session_setup',
  'service_discovery',
  'payment_selection',
  'certificate_installation',
  'certificate_update',
  'payment_details',
  'authorization',
  'charge_parameter_discovery',
  'cable_check',
  'pre_charge',
  'power_delivery',
  'charging',
  'power_delivery_stop',
  'welding_detection',
  'session_stop',
  'stopped',
  'error',
] as const;
export type HlcSessionState = (typeof HLC_SESSION_STATES)[number];

export const EVSE_STATUS_CODES = ['EVSE_NotReady', 'EVSE_Ready', 'EVSE_Shutdown', 'EVSE_UtilityInterruptEvent', 'EVSE_IsolationMonitoringActive', 'EVSE_EmergencyShutdown', 'EVSE_Malfunction'] as const;
export const ISOLATION_STATUSES = ['Invalid', 'Valid', 'Warning', 'Fault'] as const;
export type IsolationStatus = (typeof ISOLATION_STATUSES)[number];
export const AUTHORIZATION_VALUES = ['Ongoing', 'Accepted', 'Rejected'] as const;
export type AuthorizationValue = (typeof AUTHORIZATION_VALUES)[number];

/** Topic names, one place. */
export const HLC = {
  session: {
    state: 'ci/hlc/session/state',
    protocol: 'ci/hlc/session/protocol',
    id: 'ci/hlc/session/id',
    tls: 'ci/hlc/session/tls',
    stopReason: 'ci/hlc/session/stop_reason',
  },
  ev: {
    evccid: 'ci/hlc/ev/evccid',
    energyTransferType: 'ci/hlc/ev/energy_transfer_type',
    soc: 'ci/hlc/ev/soc',
    ready: 'ci/hlc/ev/ready',
    errorCode: 'ci/hlc/ev/error_code',
    targetVoltage: 'ci/hlc/ev/target_voltage',
    targetCurrent: 'ci/hlc/ev/target_current',
    maxVoltage: 'ci/hlc/ev/max_voltage',
    maxCurrent: 'ci/hlc/ev/max_current',
    maxPower: 'ci/hlc/ev/max_power',
    energyCapacity: 'ci/hlc/ev/energy_capacity',
    energyRequest: 'ci/hlc/ev/energy_request',
    fullSoc: 'ci/hlc/ev/full_soc',
    bulkSoc: 'ci/hlc/ev/bulk_soc',
    bulkChargingComplete: 'ci/hlc/ev/bulk_charging_complete',
    chargingComplete: 'ci/hlc/ev/charging_complete',
    remainingTimeToFullSoc: 'ci/hlc/ev/remaining_time_to_full_soc',
    remainingTimeToBulkSoc: 'ci/hlc/ev/remaining_time_to_bulk_soc',
  },
  evse: {
    presentVoltage: 'ci/hlc/evse/present_voltage',
    presentCurrent: 'ci/hlc/evse/present_current',
    maxVoltage: 'ci/hlc/evse/max_voltage',
    maxCurrent: 'ci/hlc/evse/max_current',
    maxPower: 'ci/hlc/evse/max_power',
    minVoltage: 'ci/hlc/evse/min_voltage',
    minCurrent: 'ci/hlc/evse/min_current',
    currentRegulationTolerance: 'ci/hlc/evse/current_regulation_tolerance',
    peakCurrentRipple: 'ci/hlc/evse/peak_current_ripple',
    energyToBeDelivered: 'ci/hlc/evse/energy_to_be_delivered',
    isolationStatus: 'ci/hlc/evse/isolation_status',
    statusCode: 'ci/hlc/evse/status_code',
    processing: 'ci/hlc/evse/processing',
    authorization: 'ci/hlc/evse/authorization',
    stopCharging: 'ci/hlc/evse/stop_charging',
    errorShutdown: 'ci/hlc/evse/error_shutdown',
  },
} as const;

const out = (topic: string, type: string, schema: JSONSchema, description: string, unit?: string): TopicDefinition =>
  defineTopic({ topic, direction: 'subscribeable-only', type, retained: true, schema, description, ...(unit ? { unit } : {}) });
const inp = (topic: string, type: string, schema: JSONSchema, description: string, unit?: string): TopicDefinition =>
  defineTopic({ topic, direction: 'publishable', type, retained: true, schema, description, ...(unit ? { unit } : {}) });
const pv = (unit: PhysicalUnit) => physicalValueSchema(unit);
const percent: JSONSchema = { type: 'integer', minimum: 0, maximum: 100 };

export const HLC_TOPICS: readonly TopicDefinition[] = [
  out(HLC.session.state, 'String', { enum: [...HLC_SESSION_STATES] }, 'State of the high-level communication session: the step of DIN 70121 / ISO 15118 the SECC is in (idle, sdp, connected, app_handshake, session_setup, … charging, … session_stop, stopped, error).'),
  out(HLC.session.protocol, 'String', { type: ['string', 'null'] }, 'The protocol negotiated in the app handshake (din70121, iso15118-2, …), null without a session.'),
  out(HLC.session.id, 'String', { type: ['string', 'null'], pattern: '^[0-9a-f]{16}$' }, 'SessionID of the current session (8 bytes, hex), null without a session.'),
  out(HLC.session.tls, 'Boolean', { type: 'boolean' }, 'Whether the current V2G connection is TLS-secured.'),
  out(HLC.session.stopReason, 'String', { type: 'string' }, 'Why the last session ended (EV request, EVSE stop, timeout with the timer name, unplug, protocol error …).'),

  out(HLC.ev.evccid, 'String', { type: 'string', pattern: '^[0-9a-f]*$' }, 'EVCCID from SessionSetupReq: the EV communication controller ID (its MAC address for DIN 70121), hex.'),
  out(HLC.ev.energyTransferType, 'String', { type: 'string' }, 'EVRequestedEnergyTransferType from ChargeParameterDiscoveryReq (e.g. DC_extended).'),
  out(HLC.ev.soc, 'Integer', percent, 'EVRESSSOC: state of charge of the EV battery, from every DC_EVStatus.', 'percent'),
  out(HLC.ev.ready, 'Boolean', { type: 'boolean' }, 'EVReady from DC_EVStatus.'),
  out(HLC.ev.errorCode, 'String', { type: 'string' }, 'EVErrorCode from DC_EVStatus (NO_ERROR, FAILED_RESSTemperatureInhibit, …).'),
  out(HLC.ev.targetVoltage, 'PhysicalValue', pv('V'), 'EVTargetVoltage of PreChargeReq / CurrentDemandReq: the voltage the power electronics shall set.', 'V'),
  out(HLC.ev.targetCurrent, 'PhysicalValue', pv('A'), 'EVTargetCurrent of PreChargeReq / CurrentDemandReq: the current the power electronics shall set.', 'A'),
  out(HLC.ev.maxVoltage, 'PhysicalValue', pv('V'), 'EVMaximumVoltageLimit.', 'V'),
  out(HLC.ev.maxCurrent, 'PhysicalValue', pv('A'), 'EVMaximumCurrentLimit.', 'A'),
  out(HLC.ev.maxPower, 'PhysicalValue', pv('W'), 'EVMaximumPowerLimit (optional in the EV messages).', 'W'),
  out(HLC.ev.energyCapacity, 'PhysicalValue', pv('Wh'), 'EVEnergyCapacity (optional).', 'Wh'),
  out(HLC.ev.energyRequest, 'PhysicalValue', pv('Wh'), 'EVEnergyRequest (optional).', 'Wh'),
  out(HLC.ev.fullSoc, 'Integer', percent, 'FullSOC (optional).', 'percent'),
  out(HLC.ev.bulkSoc, 'Integer', percent, 'BulkSOC (optional).', 'percent'),
  out(HLC.ev.bulkChargingComplete, 'Boolean', { type: 'boolean' }, 'BulkChargingComplete (optional).'),
  out(HLC.ev.chargingComplete, 'Boolean', { type: 'boolean' }, 'ChargingComplete: the EV is about to stop.'),
  out(HLC.ev.remainingTimeToFullSoc, 'PhysicalValue', pv('s'), 'RemainingTimeToFullSoC (optional).', 's'),
  out(HLC.ev.remainingTimeToBulkSoc, 'PhysicalValue', pv('s'), 'RemainingTimeToBulkSoC (optional).', 's'),

  inp(HLC.evse.presentVoltage, 'PhysicalValue', pv('V'), 'Measured output voltage of the power electronics (EVSEPresentVoltage). Publish it continuously while a session runs.', 'V'),
  inp(HLC.evse.presentCurrent, 'PhysicalValue', pv('A'), 'Measured output current (EVSEPresentCurrent).', 'A'),
  inp(HLC.evse.maxVoltage, 'PhysicalValue', pv('V'), 'EVSEMaximumVoltageLimit. ChargeParameterDiscovery answers Ongoing until the maximum and minimum limits are known.', 'V'),
  inp(HLC.evse.maxCurrent, 'PhysicalValue', pv('A'), 'EVSEMaximumCurrentLimit.', 'A'),
  inp(HLC.evse.maxPower, 'PhysicalValue', pv('W'), 'EVSEMaximumPowerLimit.', 'W'),
  inp(HLC.evse.minVoltage, 'PhysicalValue', pv('V'), 'EVSEMinimumVoltageLimit.', 'V'),
  inp(HLC.evse.minCurrent, 'PhysicalValue', pv('A'), 'EVSEMinimumCurrentLimit.', 'A'),
  inp(HLC.evse.currentRegulationTolerance, 'PhysicalValue', pv('A'), 'EVSECurrentRegulationTolerance (optional).', 'A'),
  inp(HLC.evse.peakCurrentRipple, 'PhysicalValue', pv('A'), 'EVSEPeakCurrentRipple.', 'A'),
  inp(HLC.evse.energyToBeDelivered, 'PhysicalValue', pv('Wh'), 'EVSEEnergyToBeDelivered (optional).', 'Wh'),
  inp(HLC.evse.isolationStatus, 'String', { enum: [...ISOLATION_STATUSES] }, 'Result of the isolation monitoring. The stack sets Invalid at session start; CableCheck answers EVSEProcessing=Ongoing until it is Valid or Warning, and fails the session on Fault.'),
  inp(HLC.evse.statusCode, 'String', { enum: [...EVSE_STATUS_CODES] }, 'EVSEStatusCode of the power electronics (default EVSE_Ready). EVSE_EmergencyShutdown or EVSE_Malfunction end the session.'),
  inp(HLC.evse.processing, 'String', { enum: ['Ongoing', 'Finished'] }, 'Ongoing holds ChargeParameterDiscovery and CableCheck in EVSEProcessing=Ongoing (e.g. power module not ready); Finished (default) lets them complete.'),
  inp(HLC.evse.authorization, 'String', { enum: [...AUTHORIZATION_VALUES] }, 'The authorization decision for the session (external identification, EIM): the stack sets Ongoing at session start and answers ContractAuthenticationReq with EVSEProcessing=Ongoing until Accepted; Rejected ends the session.'),
  inp(HLC.evse.stopCharging, 'Boolean', { type: 'boolean' }, 'true: stop charging from the EVSE side: the EV is told EVSE_Shutdown with EVSENotification=StopCharging and ends the session normally. Reset to false at session start.'),
  inp(HLC.evse.errorShutdown, 'Boolean', { type: 'boolean' }, 'true: error shutdown from the EVSE side: EVSE_EmergencyShutdown, contactors opened at once, session ended. Reset to false at session start.'),
];
