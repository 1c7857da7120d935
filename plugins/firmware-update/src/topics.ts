import { defineTopic, type TopicDefinition } from '@opensecc/plugin-api';

/** The states of `firmware/update/state/actual` (seed 7.5, table 6). */
export const UPDATE_STATES = [
  'idle',
  'downloading',
  'download-succeeded',
  'download-failed',
  'installing',
  'install-succeeded',
  'install-failed',
] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];

export const RESULT_STATES = ['succeeded', 'failed', ''] as const;
export type ResultState = (typeof RESULT_STATES)[number];

/** What the yellow LED1 shows during a USB update (seed 7.2); there are no LEDs here, so it is a topic. */
export const USB_INDICATOR_VALUES = ['off', 'on', 'blinking'] as const;
export type UsbIndicator = (typeof USB_INDICATOR_VALUES)[number];

/** Why the indicator shows what it shows (the seed only has the LED; this names the reason). */
export const USB_STATUS_VALUES = [
  'no-medium',
  'medium-detected',
  'no-image',
  'multiple-images',
  'already-installed',
  'updating',
  'succeeded',
  'failed',
] as const;
export type UsbStatus = (typeof USB_STATUS_VALUES)[number];

export const T = {
  targetUrl: 'firmware/update/target/url',
  targetMaxTrials: 'firmware/update/target/max_trials',
  targetInterval: 'firmware/update/target/interval',
  stateActual: 'firmware/update/state/actual',
  stateProgress: 'firmware/update/state/progress',
  resultState: 'firmware/update/result/state',
  resultMessage: 'firmware/update/result/message',
  usbIndicator: 'ci/firmware/usb/indicator',
  usbStatus: 'ci/firmware/usb/status',
  usbImage: 'ci/firmware/usb/image',
  slotBooted: 'ci/firmware/slot/booted',
  slotPrimary: 'ci/firmware/slot/primary',
} as const;

/** An integer, or the empty string meaning "unset" (seed: "Values …, empty string or unset value"). */
const integerOrEmpty = { anyOf: [{ type: 'integer' }, { type: 'string', const: '' }] };

export const FIRMWARE_TOPICS: readonly TopicDefinition[] = [
  defineTopic({
    topic: T.targetUrl,
    direction: 'publishable',
    type: 'String',
    // A command, not a state: a retained URL replayed after a restart must not start the update again.
    retained: false,
    schema: { type: 'string' },
    description:
      'URL (http, https, ftp, ftps; credentials in the URL) of the update file. Set it last: every publish of a non-empty URL starts an update and latches the other target topics. URLs ending in .raucb are casync bundles handed to rauc as URL; all others are downloaded first. Publish it without the MQTT retain flag.',
  }),
  defineTopic({
    topic: T.targetMaxTrials,
    direction: 'publishable',
    type: 'Integer',
    retained: true,
    schema: integerOrEmpty,
    description:
      'How often the download is tried (casync: the whole installation). 1, values below 1, empty string or unset mean 1.',
  }),
  defineTopic({
    topic: T.targetInterval,
    direction: 'publishable',
    type: 'Integer',
    unit: 'seconds',
    retained: true,
    schema: integerOrEmpty,
    description: 'Seconds to wait between trials. 0, negative values, empty string or unset mean 0.',
  }),
  defineTopic({
    topic: T.stateActual,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string', enum: [...UPDATE_STATES] },
    description: 'Overall firmware update state: ' + UPDATE_STATES.join(', ') + '.',
  }),
  defineTopic({
    topic: T.stateProgress,
    direction: 'subscribeable-only',
    type: 'Integer',
    unit: 'percent',
    retained: true,
    schema: { type: 'integer', minimum: 0, maximum: 100 },
    description: 'Estimated progress of the current operation (download or installation), for convenience only.',
  }),
  defineTopic({
    topic: T.resultState,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string', enum: [...RESULT_STATES] },
    description:
      'Result of the last update operation: succeeded, failed, or empty when none was triggered since boot. Published only after all trials failed or right after the first successful one.',
  }),
  defineTopic({
    topic: T.resultMessage,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string' },
    description: 'English error message of the last failed attempt, or empty string. Published after every failed attempt.',
  }),
  defineTopic({
    topic: T.usbIndicator,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string', enum: [...USB_INDICATOR_VALUES] },
    description:
      'The USB update LED (seed 7.2, yellow LED1): on while a medium is plugged and checked, blinking while the update runs, off when no compatible image was found, the image is already installed, the update ended or the medium was removed.',
  }),
  defineTopic({
    topic: T.usbStatus,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string', enum: [...USB_STATUS_VALUES] },
    description: 'Why the USB indicator shows what it shows: ' + USB_STATUS_VALUES.join(', ') + '.',
  }),
  defineTopic({
    topic: T.usbImage,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string' },
    description: 'Path of the *.image file found on the USB medium, or empty string.',
  }),
  defineTopic({
    topic: T.slotBooted,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string' },
    description: 'Boot name of the running system slot (A or B), as the update framework reports it.',
  }),
  defineTopic({
    topic: T.slotPrimary,
    direction: 'subscribeable-only',
    type: 'String',
    retained: true,
    schema: { type: 'string' },
    description: 'Boot name of the slot the bootloader will start next.',
  }),
];
