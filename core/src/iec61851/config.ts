import type { JSONSchema } from '@opensecc/plugin-api';

/** Settings of the IEC 61851 controller (the kernel config's `charging` section). */
export interface Iec61851Config {
  /** The EVSE's own rating per phase (supply, contactor, wiring), in A. */
  readonly maxCurrentA: number;
  readonly pwmFrequencyHz: number;
  /** 'socket': the cable's rating comes from PP and the plug is locked; 'tethered': a fixed cable. */
  readonly cable: 'socket' | 'tethered';
  /** Rating of a tethered cable, in A. */
  readonly tetheredCableMaxCurrentA: number;
  /** Lock the plug while an EV is connected (socket outlets with a lock). */
  readonly lockPlug: boolean;
  /** The site ventilates, so state D may be supplied like C. */
  readonly ventilationAvailable: boolean;
  /** How long the contactor's feedback may take to follow a command. */
  readonly contactorFeedbackTimeoutMs: number;
  /** How long the plug lock may take to reach its position. */
  readonly plugLockTimeoutMs: number;
  /**
   * EVSE-initiated stop (PWM withdrawn while the EV is in C/D): how long the EV has to open S2
   * (go to B) before the contactor is opened under load. IEC 61851-1 gives the EV 3 s.
   */
  readonly evStopTimeoutMs: number;
  /** After the last fault condition cleared, how long the CP stays safe before energy is offered again. */
  readonly faultRecoveryDelayMs: number;
}

export const DEFAULT_IEC61851_CONFIG: Iec61851Config = {
  maxCurrentA: 32,
  pwmFrequencyHz: 1000,
  cable: 'socket',
  tetheredCableMaxCurrentA: 32,
  lockPlug: true,
  ventilationAvailable: false,
  contactorFeedbackTimeoutMs: 500,
  plugLockTimeoutMs: 1000,
  evStopTimeoutMs: 3000,
  faultRecoveryDelayMs: 5000,
};

const ms = (description: string, fallback: number) => ({ type: 'integer', minimum: 0, maximum: 600000, default: fallback, description });

/** JSON Schema of the `charging` config section (defaults applied by the config loader). */
export const iec61851ConfigSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxCurrentA: { type: 'number', minimum: 6, maximum: 80, default: DEFAULT_IEC61851_CONFIG.maxCurrentA, description: "the EVSE's rating per phase, A" },
    pwmFrequencyHz: { type: 'number', minimum: 980, maximum: 1020, default: DEFAULT_IEC61851_CONFIG.pwmFrequencyHz },
    cable: { enum: ['socket', 'tethered'], default: DEFAULT_IEC61851_CONFIG.cable },
    tetheredCableMaxCurrentA: { type: 'number', minimum: 6, maximum: 80, default: DEFAULT_IEC61851_CONFIG.tetheredCableMaxCurrentA },
    lockPlug: { type: 'boolean', default: DEFAULT_IEC61851_CONFIG.lockPlug },
    ventilationAvailable: { type: 'boolean', default: DEFAULT_IEC61851_CONFIG.ventilationAvailable },
    contactorFeedbackTimeoutMs: ms('contactor feedback timeout', DEFAULT_IEC61851_CONFIG.contactorFeedbackTimeoutMs),
    plugLockTimeoutMs: ms('plug lock feedback timeout', DEFAULT_IEC61851_CONFIG.plugLockTimeoutMs),
    evStopTimeoutMs: ms('time the EV has to leave C after PWM is withdrawn', DEFAULT_IEC61851_CONFIG.evStopTimeoutMs),
    faultRecoveryDelayMs: ms('safe-state time after a fault cleared', DEFAULT_IEC61851_CONFIG.faultRecoveryDelayMs),
  },
};

export class Iec61851ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`charging.${field}: ${reason}`);
    this.name = 'Iec61851ConfigError';
  }
}

/** Defaults applied and ranges checked (for callers that bypass the schema, e.g. tests). */
export function resolveIec61851Config(partial: Partial<Iec61851Config> = {}): Iec61851Config {
  const config: Iec61851Config = { ...DEFAULT_IEC61851_CONFIG, ...partial };
  const range = (field: keyof Iec61851Config, min: number, max: number) => {
    const value = config[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new Iec61851ConfigError(field, `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  };
  range('maxCurrentA', 6, 80);
  range('pwmFrequencyHz', 980, 1020);
  range('tetheredCableMaxCurrentA', 6, 80);
  for (const field of ['contactorFeedbackTimeoutMs', 'plugLockTimeoutMs', 'evStopTimeoutMs', 'faultRecoveryDelayMs'] as const) range(field, 0, 600000);
  if (config.cable !== 'socket' && config.cable !== 'tethered') throw new Iec61851ConfigError('cable', `must be 'socket' or 'tethered', got ${JSON.stringify(config.cable)}`);
  for (const field of ['lockPlug', 'ventilationAvailable'] as const) {
    if (typeof config[field] !== 'boolean') throw new Iec61851ConfigError(field, `must be a boolean, got ${JSON.stringify(config[field])}`);
  }
  return config;
}
