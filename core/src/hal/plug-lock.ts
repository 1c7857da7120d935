import type { BoardAdapter } from './board-adapter.js';
import { SupervisedSwitch, type SwitchFault } from './supervised-switch.js';
import type { Timers } from './timers.js';

export const PLUG_LOCK_STATES = ['unlocked', 'locking', 'locked', 'unlocking', 'error'] as const;
export type PlugLockState = (typeof PLUG_LOCK_STATES)[number];

/** The socket's plug lock, supervised through its position feedback. */
export class PlugLock extends SupervisedSwitch<PlugLockState> {
  constructor(
    board: BoardAdapter,
    timers: Timers,
    feedbackTimeoutMs: number,
    onChange: (state: PlugLockState, fault: SwitchFault | undefined) => void,
  ) {
    super({
      names: { off: 'unlocked', engaging: 'locking', on: 'locked', releasing: 'unlocking', error: 'error' },
      timers,
      feedbackTimeoutMs,
      hasFeedback: board.capabilities.plugLockFeedback,
      command: (on) => board.setPlugLock(on),
      readFeedback: () => board.readPlugLockFeedback(),
      subscribeFeedback: (listener) => board.on('plugLockFeedback', listener),
      onChange,
    });
  }
}
