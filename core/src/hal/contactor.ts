import type { BoardAdapter } from './board-adapter.js';
import { SupervisedSwitch, type SwitchFault } from './supervised-switch.js';
import type { Timers } from './timers.js';

export const CONTACTOR_STATES = ['open', 'closing', 'closed', 'opening', 'error'] as const;
export type ContactorState = (typeof CONTACTOR_STATES)[number];

/** The main contactor, supervised through its feedback contact. */
export class Contactor extends SupervisedSwitch<ContactorState> {
  constructor(
    board: BoardAdapter,
    timers: Timers,
    feedbackTimeoutMs: number,
    onChange: (state: ContactorState, fault: SwitchFault | undefined) => void,
  ) {
    super({
      names: { off: 'open', engaging: 'closing', on: 'closed', releasing: 'opening', error: 'error' },
      timers,
      feedbackTimeoutMs,
      hasFeedback: board.capabilities.contactorFeedback,
      command: (on) => board.setContactor(on),
      readFeedback: () => board.readContactorFeedback(),
      subscribeFeedback: (listener) => board.on('contactorFeedback', listener),
      onChange,
    });
  }
}
