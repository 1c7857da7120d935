import { defineTopic, type TopicDefinition } from '@opensecc/plugin-api';
import { CONTACTOR_STATES } from '../hal/contactor.js';
import { CP_STATES } from '../hal/cp.js';
import { PLUG_LOCK_STATES } from '../hal/plug-lock.js';
import { CHARGING_STATES } from './charging-state.js';

/** Bus (and MQTT) topic names of the IEC 61851 subsystem. */
export const IEC61851_TOPICS = {
  cpState: 'ci/cp/state',
  cpDutyCycle: 'ci/cp/duty_cycle',
  ppMaxCurrent: 'ci/pp/max_current',
  contactorState: 'ci/contactor/state',
  plugLockState: 'ci/plug_lock/state',
  chargingState: 'ci/charging/state',
  acMaxCurrent: 'ci/charging/ac_max_current',
  enable: 'ci/charging/enable',
  errorActive: 'ci/error/active',
  errorEvent: 'ci/error/event',
} as const;

const errorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'message', 'since'],
  properties: {
    code: { type: 'string', minLength: 1, description: 'stable machine-readable code, e.g. contactor_welded' },
    message: { type: 'string', description: 'English description' },
    since: { type: 'string', description: 'ISO 8601 UTC time the error was raised' },
  },
};

/** The registry entries of the IEC 61851 subsystem (owner: the kernel, subsystem `iec61851`). */
export const iec61851Topics: readonly TopicDefinition[] = [
  defineTopic({
    topic: IEC61851_TOPICS.cpState,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { enum: [...CP_STATES] },
    description:
      'Control pilot state as measured (IEC 61851-1): A no EV, B EV connected, C EV requests energy, D EV requests energy with ventilation, E CP shorted / no supply, F EVSE not available (the EVSE drives -12 V, e.g. after a fault).',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.cpDutyCycle,
    direction: 'subscribeable-only',
    type: 'Number',
    unit: '%',
    retained: true,
    schema: { type: 'number', minimum: 0, maximum: 100 },
    description:
      'PWM duty cycle the EVSE drives on the CP: 100 = no PWM (steady +12 V, no energy offered), 5 = high-level communication, 10..96 = the offered current per IEC 61851-1 Annex A, 0 = steady -12 V (state F).',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.ppMaxCurrent,
    direction: 'subscribeable-only',
    type: 'Number',
    unit: 'A',
    retained: true,
    schema: { type: ['number', 'null'], minimum: 0 },
    description: "Current rating of the charging cable, from its proximity pilot resistor (or the configured rating of a tethered cable); null when no cable is detected.",
  }),
  defineTopic({
    topic: IEC61851_TOPICS.contactorState,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { enum: [...CONTACTOR_STATES] },
    description: 'Main contactor, as confirmed by its feedback contact: open, closing, closed, opening, or error (did not follow its command, e.g. welded).',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.plugLockState,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { enum: [...PLUG_LOCK_STATES] },
    description: 'Plug lock of the socket outlet: unlocked, locking, locked, unlocking, or error (the actuator did not reach its position).',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.chargingState,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { enum: [...CHARGING_STATES] },
    description:
      'IEC 61851 session state: idle (no EV), connected (EV present, no energy offered), ready (PWM offered, waiting for the EV), starting (contactor closing), charging (contactor closed), stopping (waiting for the EV to stop or the contactor to open), fault (safe state after an error; see ci/error/active).',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.acMaxCurrent,
    direction: 'publishable',
    type: 'Number',
    unit: 'A',
    retained: true,
    schema: { type: 'number', minimum: 0, maximum: 80 },
    description:
      'Maximum AC current per phase the customer allows. The PWM offers the minimum of this, the EVSE rating and the cable rating, and follows changes live; below 6 A no energy is offered (PWM withheld). Unset: the EVSE rating.',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.enable,
    direction: 'publishable',
    type: 'Boolean',
    retained: true,
    schema: { type: 'boolean' },
    description: 'false stops a running charge safely (PWM withdrawn, contactor opened once the EV stops or after the timeout) and withholds PWM until true again. Unset: true.',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.errorActive,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: true,
    schema: { type: 'array', items: errorSchema },
    description: 'Errors active right now, oldest first: [{code, message, since}]. Empty when none.',
  }),
  defineTopic({
    topic: IEC61851_TOPICS.errorEvent,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: errorSchema,
    description: 'One error as it is raised ({code, message, since}); not retained.',
  }),
];
