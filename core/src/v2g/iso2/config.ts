import type { JSONSchema } from '@opensecc/plugin-api';
import { physicalValueSchema, type PhysicalValue } from '../topics.js';
import { salesTariffSchema, saSchedulesSchema, type SalesTariff, type SaSchedule } from './topics.js';

export const ISO2_ENERGY_TRANSFER_MODES = ['AC_single_phase_core', 'AC_three_phase_core', 'DC_core', 'DC_extended', 'DC_combo_core', 'DC_unique'] as const;
export type Iso2EnergyTransferMode = (typeof ISO2_ENERGY_TRANSFER_MODES)[number];

export const isAcMode = (mode: string): boolean => mode.startsWith('AC_');

/** The ISO 15118-2 SECC's configuration (the kernel config's `v2g.iso2` section). */
export interface Iso2SeccConfig {
  /** EVSEID (ISO 15118-2: a string, e.g. 'DE*ABC*E123456'; 'ZZ00000' when none is assigned). */
  readonly evseId: string;
  /** Offered in ServiceDiscoveryRes; the EV must pick one of these in ChargeParameterDiscoveryReq. */
  readonly energyTransferModes: readonly Iso2EnergyTransferMode[];
  /**
   * Offered payment options. Contract (Plug & Charge) is offered only while the pnc plugin is
   * running, the connection is TLS and the SECC's own certificate chain is valid; else it is left
   * out (and ExternalPayment offered when nothing else is left).
   */
  readonly paymentOptions: ReadonlyArray<'ExternalPayment' | 'Contract'>;
  readonly ongoingTimeoutMs: number;
  readonly powerDeliveryTimeoutMs: number;
  /**
   * AC: after PowerDeliveryRes Start the EV switches to state C and only then do the contactors
   * close (IEC 61851-1); if they are not closed within this, the next ChargingStatus fails.
   */
  readonly acContactorTimeoutMs: number;
  readonly cableCheckNeedsStateC: boolean;
  /** AC: EVSENominalVoltage when ci/hlc/evse/nominal_voltage is not published. */
  readonly nominalVoltage: PhysicalValue;
  /** Schedules offered when ci/hlc/evse/sa_schedules is not published. */
  readonly schedules?: readonly SaSchedule[];
  readonly salesTariff?: SalesTariff;
  /** PMax when neither topic nor config gives a schedule and the EVSE maximum power is unknown, W. */
  readonly defaultMaxPowerW: number;
  /** NotificationMaxDelay sent with EVSENotification ReNegotiation/StopCharging, s. */
  readonly notificationMaxDelayS: number;
  /**
   * Ask for a MeteringReceipt (ReceiptRequired=true) while charging. ISO 15118-2 asks for it with
   * Contract payment, where the EV signs it; with EIM the receipt carries no signature to check.
   */
  readonly receiptRequired: boolean;
}

export const DEFAULT_ISO2_SECC_CONFIG: Iso2SeccConfig = {
  evseId: 'ZZ00000',
  energyTransferModes: ['DC_extended'],
  paymentOptions: ['ExternalPayment'],
  ongoingTimeoutMs: 60_000,
  powerDeliveryTimeoutMs: 1_500,
  acContactorTimeoutMs: 5_000,
  cableCheckNeedsStateC: false,
  nominalVoltage: { value: 230, multiplier: 0, unit: 'V' },
  defaultMaxPowerW: 22_000,
  notificationMaxDelayS: 10,
  receiptRequired: false,
};

/** JSON Schema of the `v2g.iso2` config section. */
export const iso2ConfigSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    evseId: { type: 'string', minLength: 1, maxLength: 37, default: DEFAULT_ISO2_SECC_CONFIG.evseId },
    energyTransferModes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...ISO2_ENERGY_TRANSFER_MODES] }, default: [...DEFAULT_ISO2_SECC_CONFIG.energyTransferModes] },
    paymentOptions: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['ExternalPayment', 'Contract'] }, default: ['ExternalPayment'], description: "Contract (Plug & Charge) needs the pnc plugin, TLS and a valid SECC certificate; it is left out of ServiceDiscoveryRes while any is missing" },
    nominalVoltage: physicalValueSchema('V'),
    schedules: saSchedulesSchema,
    salesTariff: salesTariffSchema,
    defaultMaxPowerW: { type: 'integer', minimum: 1, maximum: 3_000_000, default: DEFAULT_ISO2_SECC_CONFIG.defaultMaxPowerW },
    notificationMaxDelayS: { type: 'integer', minimum: 0, maximum: 65535, default: DEFAULT_ISO2_SECC_CONFIG.notificationMaxDelayS },
    receiptRequired: { type: 'boolean', default: false },
  },
};
