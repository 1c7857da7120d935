/**
 * Bus topics that ISO 15118-2 adds to the DIN 70121 set (core/src/v2g/topics.ts), registered in the
 * same topic registry and so in the MQTT API. DIN's topics keep their meaning under ISO 15118-2
 * (SoC, targets, limits, present values, authorization, stop, error shutdown); these cover what
 * only ISO 15118-2 has: AC charging, departure time and energy amount, schedules and sales tariffs,
 * meter information, pause/resume and renegotiation.
 *
 * Relation to the SECC configuration (`v2g.iso2` section, see config.ts), after seed section 9.6:
 * a value published on a ci/hlc/evse/… topic wins over the configured one for the messages that
 * follow; without a publication the configured value (or its documented default) is used. The
 * energy transfer modes, payment options and EVSEID are configuration only: the EV learns them in
 * ServiceDiscovery, before any customer decision could matter.
 */
import { defineTopic, type JSONSchema, type TopicDefinition } from '@opensecc/plugin-api';
import { physicalValueSchema, type PhysicalValue } from '../topics.js';

export const ISO2 = {
  session: {
    paused: 'ci/hlc/session/paused',
    renegotiation: 'ci/hlc/session/renegotiation',
    paymentOption: 'ci/hlc/session/payment_option',
    saScheduleTupleId: 'ci/hlc/session/sa_schedule_tuple_id',
  },
  ev: {
    acMaxCurrent: 'ci/hlc/ev/ac_max_current',
    acMinCurrent: 'ci/hlc/ev/ac_min_current',
    acMaxVoltage: 'ci/hlc/ev/ac_max_voltage',
    departureTime: 'ci/hlc/ev/departure_time',
    eAmount: 'ci/hlc/ev/e_amount',
    chargingProfile: 'ci/hlc/ev/charging_profile',
    chargeProgress: 'ci/hlc/ev/charge_progress',
    emaid: 'ci/hlc/ev/emaid',
  },
  evse: {
    nominalVoltage: 'ci/hlc/evse/nominal_voltage',
    acMaxCurrent: 'ci/hlc/evse/ac_max_current',
    rcd: 'ci/hlc/evse/rcd',
    meterInfo: 'ci/hlc/evse/meter_info',
    saSchedules: 'ci/hlc/evse/sa_schedules',
    salesTariff: 'ci/hlc/evse/sales_tariff',
    renegotiate: 'ci/hlc/evse/renegotiate',
  },
} as const;

/** One PMax entry of a schedule: from `start` seconds (relative to ChargeParameterDiscoveryRes) on, at most `maxPower`. */
export interface ScheduleEntry {
  readonly start: number;
  readonly maxPower: PhysicalValue;
}

/** A sales tariff as the customer publishes it (price levels only; costs optional). */
export interface SalesTariff {
  readonly id: number;
  readonly description?: string;
  readonly numEPriceLevels?: number;
  readonly entries: ReadonlyArray<{ readonly start: number; readonly ePriceLevel?: number; readonly relativePricePercentage?: number }>;
}

/** One SAScheduleTuple: an id, a PMax schedule over `duration` seconds, optionally a sales tariff. */
export interface SaSchedule {
  readonly id: number;
  readonly duration?: number;
  readonly entries: readonly ScheduleEntry[];
  readonly salesTariff?: SalesTariff;
}

export interface MeterInfo {
  readonly meterId: string;
  /** Wh. */
  readonly meterReading?: number;
  readonly meterStatus?: number;
  /** Unix time of the reading, s. */
  readonly tMeter?: number;
}

const out = (topic: string, type: string, schema: JSONSchema, description: string, unit?: string): TopicDefinition =>
  defineTopic({ topic, direction: 'subscribeable-only', type, retained: true, schema, description, ...(unit ? { unit } : {}) });
const inp = (topic: string, type: string, schema: JSONSchema, description: string, unit?: string): TopicDefinition =>
  defineTopic({ topic, direction: 'publishable', type, retained: true, schema, description, ...(unit ? { unit } : {}) });

const seconds: JSONSchema = { type: 'integer', minimum: 0, maximum: 4294967295 };

export const salesTariffSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'entries'],
  properties: {
    id: { type: 'integer', minimum: 1, maximum: 255, description: 'SalesTariffID' },
    description: { type: 'string', maxLength: 32 },
    numEPriceLevels: { type: 'integer', minimum: 0, maximum: 255 },
    entries: {
      type: 'array',
      minItems: 1,
      maxItems: 1024,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['start'],
        properties: {
          start: seconds,
          ePriceLevel: { type: 'integer', minimum: 0, maximum: 255 },
          relativePricePercentage: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'cost of kind relativePricePercentage' },
        },
      },
    },
  },
};

export const saSchedulesSchema: JSONSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 3,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'entries'],
    properties: {
      id: { type: 'integer', minimum: 1, maximum: 255, description: 'SAScheduleTupleID' },
      duration: { ...seconds, description: 'length of the schedule, s (default 86400)' },
      entries: {
        type: 'array',
        minItems: 1,
        maxItems: 1024,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['start', 'maxPower'],
          properties: { start: seconds, maxPower: physicalValueSchema('W') },
        },
      },
      salesTariff: salesTariffSchema,
    },
  },
};

export const meterInfoSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['meterId'],
  properties: {
    meterId: { type: 'string', minLength: 1, maxLength: 32 },
    meterReading: { type: 'integer', minimum: 0, description: 'Wh' },
    meterStatus: { type: 'integer', minimum: -32768, maximum: 32767 },
    tMeter: { type: 'integer', description: 'Unix time of the reading, s' },
  },
};

const chargingProfileSchema: JSONSchema = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['start', 'maxPower'],
    properties: { start: seconds, maxPower: physicalValueSchema('W'), maxPhases: { type: 'integer', minimum: 1, maximum: 3 } },
  },
};

export const ISO2_TOPICS: readonly TopicDefinition[] = [
  out(ISO2.session.paused, 'Boolean', { type: 'boolean' }, 'true after the EV paused the session (SessionStopReq ChargingSession=Pause): the SessionID is kept and an EV that wakes up joins it again (OK_OldSessionJoined), which sets this back to false. Unplugging forgets the paused session.'),
  out(ISO2.session.renegotiation, 'Boolean', { type: 'boolean' }, 'true from PowerDeliveryReq ChargeProgress=Renegotiate until the next PowerDeliveryReq Start: schedule and limits are being exchanged again, the session and the contactors stay as they are.'),
  out(ISO2.session.paymentOption, 'String', { enum: ['ExternalPayment', 'Contract'] }, 'SelectedPaymentOption of PaymentServiceSelectionReq (ISO 15118-2).'),
  out(ISO2.session.saScheduleTupleId, 'Integer', { type: 'integer', minimum: 1, maximum: 255 }, 'SAScheduleTupleID the EV chose in PowerDeliveryReq (ISO 15118-2).'),

  out(ISO2.ev.acMaxCurrent, 'PhysicalValue', physicalValueSchema('A'), 'EVMaxCurrent of AC_EVChargeParameter: the most current the EV draws per phase (ISO 15118-2 AC).', 'A'),
  out(ISO2.ev.acMinCurrent, 'PhysicalValue', physicalValueSchema('A'), 'EVMinCurrent of AC_EVChargeParameter, per phase (ISO 15118-2 AC).', 'A'),
  out(ISO2.ev.acMaxVoltage, 'PhysicalValue', physicalValueSchema('V'), 'EVMaxVoltage of AC_EVChargeParameter (ISO 15118-2 AC).', 'V'),
  out(ISO2.ev.departureTime, 'Integer', seconds, 'DepartureTime of the EV charge parameters: seconds from ChargeParameterDiscoveryReq until the driver wants to leave (ISO 15118-2, optional).', 's'),
  out(ISO2.ev.eAmount, 'PhysicalValue', physicalValueSchema('Wh'), 'EAmount of AC_EVChargeParameter: the energy the EV asks for (ISO 15118-2 AC).', 'Wh'),
  out(ISO2.ev.chargingProfile, 'Array', chargingProfileSchema, 'ChargingProfile of PowerDeliveryReq Start: the EV’s planned power over time, checked against the chosen schedule; [] when the EV sent none.'),
  out(ISO2.ev.emaid, 'String', { type: ['string', 'null'], maxLength: 255 }, 'eMAID of PaymentDetailsReq (Plug & Charge, ISO 15118-2): the contract the EV charges on, published before the chain check so that the backend can decide on ci/hlc/evse/authorization once AuthorizationReq is verified; null from SessionSetup until then (and with ExternalPayment).'),
  out(ISO2.ev.chargeProgress, 'String', { enum: ['Start', 'Stop', 'Renegotiate'] }, 'ChargeProgress of the last PowerDeliveryReq (ISO 15118-2).'),

  inp(ISO2.evse.nominalVoltage, 'PhysicalValue', physicalValueSchema('V'), 'EVSENominalVoltage for AC (ISO 15118-2); default from config v2g.iso2.nominalVoltage (230 V).', 'V'),
  inp(ISO2.evse.acMaxCurrent, 'PhysicalValue', physicalValueSchema('A'), 'EVSEMaxCurrent for AC, per phase (ISO 15118-2). AC ChargeParameterDiscovery answers EVSEProcessing=Ongoing until it is known; later changes go to the EV in ChargingStatusRes.', 'A'),
  inp(ISO2.evse.rcd, 'Boolean', { type: 'boolean' }, 'RCD of AC_EVSEStatus: true when the residual current device tripped (the EV stops). Default false.'),
  inp(ISO2.evse.meterInfo, 'Object', meterInfoSchema, 'Meter information sent in ChargingStatusRes / CurrentDemandRes (MeterInfo) while charging; absent: no MeterInfo.'),
  inp(ISO2.evse.saSchedules, 'Array', saSchedulesSchema, 'The SAScheduleList offered in ChargeParameterDiscoveryRes (1-3 PMax schedules, each optionally with its sales tariff). Wins over config v2g.iso2.schedules; without either, one schedule with the EVSE maximum power for 24 h. Takes effect at the next ChargeParameterDiscovery: publish, then ci/hlc/evse/renegotiate=true to hand it to a charging EV.'),
  inp(ISO2.evse.salesTariff, 'Object', salesTariffSchema, 'A sales tariff added to every offered schedule that has none of its own. Wins over config v2g.iso2.salesTariff.'),
  defineTopic({
    topic: ISO2.evse.renegotiate,
    direction: 'publishable',
    type: 'Boolean',
    retained: false,
    schema: { type: 'boolean' },
    description:
      'Event, not retained: true asks the charging EV to renegotiate (EVSENotification=ReNegotiation in ChargingStatusRes / CurrentDemandRes until the EV sends PowerDeliveryReq ChargeProgress=Renegotiate; ci/hlc/session/renegotiation shows the progress). A request is forgotten at session start. Publish new ci/hlc/evse/sa_schedules first to hand the EV a new schedule.',
  }),
];
