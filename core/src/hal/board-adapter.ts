import type { CpOutput, CpReading } from './cp.js';
import type { PpReading } from './pp.js';

/**
 * Safety inputs a board reports on its own (from its RCD/RDC-DD, its current measurement, its
 * emergency-stop chain, ...). Each one, while active, makes the charging logic stop safely.
 */
export const BOARD_FAULTS = ['overcurrent', 'rcd_trip', 'emergency_stop', 'overtemperature', 'internal'] as const;
export type BoardFault = (typeof BOARD_FAULTS)[number];

export interface BoardFaultEvent {
  readonly fault: BoardFault;
  /** true when the condition starts, false when it has cleared (e.g. the RCD was reset). */
  readonly active: boolean;
  /** Optional detail for the log and `ci/error/event`. */
  readonly detail?: string;
}

/** What a board can do; the charging logic adapts to what is missing. */
export interface BoardCapabilities {
  /** The contactor has an auxiliary (mirror) contact the board reads back. Without it a command counts as done. */
  readonly contactorFeedback: boolean;
  /** The socket has a plug-lock actuator (socket-outlet EVSE). */
  readonly plugLock: boolean;
  /** The lock reports its position. Without it a command counts as done. */
  readonly plugLockFeedback: boolean;
  /** The board measures the PP resistor (socket outlet). False for a tethered cable. */
  readonly proximityPilot: boolean;
}

/** Events a board emits. Listeners run synchronously; the adapter should emit outside its own command calls. */
export interface BoardEvents {
  /** A new CP measurement whose state (or diode verdict) differs from the last one. */
  cp: CpReading;
  /** The PP reading changed. */
  pp: PpReading;
  /** The contactor's auxiliary contact changed: true = closed. */
  contactorFeedback: boolean;
  /** The lock's position feedback changed: true = locked. */
  plugLockFeedback: boolean;
  /** A safety input changed. */
  fault: BoardFaultEvent;
}

export type BoardEventName = keyof BoardEvents;
export type BoardListener<K extends BoardEventName> = (event: BoardEvents[K]) => void;

/**
 * The one boundary between OpenSECC and a charger's hardware. A charger maker implements this
 * interface for their board (GPIOs, an MCU over UART/SPI/CAN, a vendor daemon ...); everything
 * above it — the IEC 61851 state machine, SLAC, V2G, the APIs — stays the same. See docs/hal.md.
 *
 * Rules every implementation keeps:
 * - Commands (`setCp`, `setContactor`, `setPlugLock`) return at once; they must not block or throw
 *   on a working board. What the hardware then does comes back as events.
 * - Events are emitted asynchronously (not from inside a command call), in the order the board saw
 *   them, and only on change. Debouncing of CP/PP is the adapter's job (a few ms is typical).
 * - `read*()` return the latest state without I/O, so the logic can look at them at any time.
 * - `setContactor(false)` must take effect immediately: the standard gives 100 ms from state B
 *   to a de-energised output, and this call is the whole software part of that budget.
 */
export interface BoardAdapter {
  /** A short name for logs, e.g. 'simulated' or 'acme-ac22-rev3'. */
  readonly name: string;
  readonly capabilities: BoardCapabilities;
  /**
   * The Linux network interface of the board's HomePlug Green PHY modem (PLC on the CP line),
   * used by SLAC and V2G, e.g. 'eth1'. Undefined when the board has no PLC modem.
   */
  readonly plcInterface: string | undefined;

  /** Bring the hardware to its safe idle state (contactor open, CP steady +12 V) and start reporting. */
  start(): Promise<void>;
  /** Stop reporting and release the hardware; the contactor must be left open. */
  stop(): Promise<void>;

  // --- control pilot -------------------------------------------------------------------------
  /** Drive the CP: steady +12 V (no PWM), steady -12 V (state F), or PWM with duty and frequency. */
  setCp(output: CpOutput): void;
  /** The latest CP measurement. */
  readCp(): CpReading;

  // --- proximity pilot -----------------------------------------------------------------------
  /** The latest PP reading (status 'none' on boards without PP measurement). */
  readPp(): PpReading;

  // --- contactor / relay ---------------------------------------------------------------------
  /** Command the main contactor (all poles): true = close, false = open. */
  setContactor(closed: boolean): void;
  /** The contactor's feedback contact (true = closed); the commanded state when there is no feedback. */
  readContactorFeedback(): boolean;

  // --- plug lock -----------------------------------------------------------------------------
  /** Drive the socket's lock actuator: true = lock, false = unlock. A no-op without a lock. */
  setPlugLock(locked: boolean): void;
  /** The lock's position (true = locked); the commanded state when there is no feedback. */
  readPlugLockFeedback(): boolean;

  // --- safety inputs -------------------------------------------------------------------------
  /** Safety inputs active right now. */
  activeFaults(): readonly BoardFault[];

  /** Listen to an event; returns the function that removes the listener. */
  on<K extends BoardEventName>(event: K, listener: BoardListener<K>): () => void;
}

/** A small typed event hub adapters can use to implement `on` and emit. */
export class BoardEventHub {
  private readonly listeners = new Map<BoardEventName, Set<(event: never) => void>>();

  on<K extends BoardEventName>(event: K, listener: BoardListener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (event: never) => void);
    return () => void set.delete(listener as (event: never) => void);
  }

  emit<K extends BoardEventName>(event: K, payload: BoardEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) (listener as BoardListener<K>)(payload);
  }

  clear(): void {
    this.listeners.clear();
  }
}
