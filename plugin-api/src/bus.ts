/**
 * The kernel's bus: a typed publish/subscribe channel that is also a state store.
 *
 * Topics are slash-separated paths (`ci/cp/state`, `firmware/update/state/actual`) and are the
 * same names the MQTT API exposes, so one registry describes both. The core never depends on MQTT
 * or CAN: those plugins only translate between the bus and their wire.
 */

/** Who wrote a value: the kernel, a named plugin, or an external interface acting for the customer. */
export interface BusOrigin {
  readonly kind: 'kernel' | 'plugin' | 'external';
  readonly name: string;
}

export interface BusMessage<T = unknown> {
  readonly topic: string;
  readonly value: T;
  readonly origin: BusOrigin;
  /** Milliseconds since the epoch at publish time. */
  readonly at: number;
}

export interface PublishOptions {
  /** Keep the value as the topic's current state (default: the topic's registry setting, else true). */
  readonly retain?: boolean;
}

export type BusHandler<T = unknown> = (message: BusMessage<T>) => void;

/** Undo a subscription. */
export type Unsubscribe = () => void;

export interface Bus {
  /** Publish a value. Throws {@link BusValidationError} when the topic has a schema and the value fails it. */
  publish<T = unknown>(topic: string, value: T, options?: PublishOptions): void;
  /**
   * Subscribe to a topic or an MQTT-style pattern (`+` one level, `#` the rest).
   * With `replay`, retained values that match are delivered at once.
   */
  subscribe<T = unknown>(pattern: string, handler: BusHandler<T>, options?: { replay?: boolean }): Unsubscribe;
  /** The retained value of a topic, or undefined. */
  get<T = unknown>(topic: string): T | undefined;
  /** Every retained topic that matches a pattern, with its value. */
  snapshot(pattern?: string): Array<BusMessage>;
}

export class BusValidationError extends Error {
  constructor(
    readonly topic: string,
    readonly reason: string,
  ) {
    super(`invalid value for bus topic '${topic}': ${reason}`);
    this.name = 'BusValidationError';
  }
}

export class BusAccessError extends Error {
  constructor(
    readonly topic: string,
    readonly pluginName: string,
    readonly access: 'read' | 'write',
  ) {
    super(`plugin '${pluginName}' may not ${access} bus topic '${topic}' (not in its manifest)`);
    this.name = 'BusAccessError';
  }
}
