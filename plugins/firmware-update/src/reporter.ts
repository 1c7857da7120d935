import { join } from 'node:path';
import type { Bus, Logger } from '@opensecc/plugin-api';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import { T, UPDATE_STATES, RESULT_STATES, type ResultState, type UpdateState } from './topics.js';

/** An installed update waiting for the reboot that proves it (or rolls it back). */
export interface PendingBoot {
  readonly fromSlot: string;
  readonly targetSlot: string;
  readonly bundleHash?: string;
  readonly at: number;
}

export interface PersistedState {
  readonly version: 1;
  actual: UpdateState;
  progress: number;
  resultState: ResultState;
  resultMessage: string;
  /** Kernel boot id at the last write: a different one on start means the system rebooted. */
  bootId: string;
  /** What the running or last operation was about (URL with credentials redacted). */
  operation?: { source: 'mqtt' | 'usb'; target: string; attempt: number; maxTrials: number };
  pendingBoot?: PendingBoot;
}

export const STATE_FILE = 'firmware-update-state.json';

export function initialState(bootId: string): PersistedState {
  return { version: 1, actual: 'idle', progress: 0, resultState: '', resultMessage: '', bootId };
}

/** Load the persisted state; a missing or unusable file counts as a fresh system. */
export function loadState(dataDir: string, bootId: string, log: Logger): PersistedState {
  try {
    const state = readJsonFile<PersistedState>(join(dataDir, STATE_FILE));
    if (!state) return initialState(bootId);
    if (state.version !== 1 || !UPDATE_STATES.includes(state.actual) || !RESULT_STATES.includes(state.resultState)) {
      throw new Error(`unexpected content (version ${String(state.version)}, state '${String(state.actual)}')`);
    }
    return state;
  } catch (error) {
    log.warn({ err: error }, `ignoring firmware update state: ${(error as Error).message}`);
    return initialState(bootId);
  }
}

/**
 * The one place that changes the update state: every change goes to the bus and, for everything
 * except progress ticks, to disk first (temp file + rename), so that a power cut never loses a
 * state that was already visible.
 */
export class Reporter {
  constructor(
    private readonly bus: Bus,
    private readonly dataDir: string,
    private state: PersistedState,
  ) {}

  get current(): Readonly<PersistedState> {
    return this.state;
  }

  update(patch: Partial<PersistedState>): void {
    this.state = { ...this.state, ...patch };
    this.persist();
  }

  /** Publish everything (start-up). */
  publishAll(): void {
    this.bus.publish(T.stateActual, this.state.actual);
    this.bus.publish(T.stateProgress, this.state.progress);
    this.bus.publish(T.resultState, this.state.resultState);
    this.bus.publish(T.resultMessage, this.state.resultMessage);
  }

  setActual(actual: UpdateState, progress?: number): void {
    this.update({ actual, ...(progress === undefined ? {} : { progress }) });
    if (progress !== undefined) this.bus.publish(T.stateProgress, progress);
    this.bus.publish(T.stateActual, actual);
  }

  setProgress(progress: number): void {
    if (progress === this.state.progress) return;
    this.state = { ...this.state, progress };
    this.bus.publish(T.stateProgress, progress);
  }

  /** After a failed attempt (seed: result/message may come after each one). */
  setMessage(message: string): void {
    this.update({ resultMessage: message });
    this.bus.publish(T.resultMessage, message);
  }

  /** After the last attempt failed, or the first one succeeded. */
  setResult(resultState: ResultState, message: string): void {
    const messageChanged = message !== this.state.resultMessage;
    this.update({ resultState, resultMessage: message });
    if (messageChanged) this.bus.publish(T.resultMessage, message);
    this.bus.publish(T.resultState, resultState);
  }

  private persist(): void {
    writeFileAtomic(join(this.dataDir, STATE_FILE), JSON.stringify(this.state, null, 2) + '\n');
  }
}
