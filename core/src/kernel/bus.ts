import {
  BusValidationError,
  type Bus,
  type BusHandler,
  type BusMessage,
  type BusOrigin,
  type PublishOptions,
  type Unsubscribe,
} from '@opensecc/plugin-api';
import { topicMatches } from './topic-match.js';

/** Validates a value for a topic; returns an error text or undefined. Supplied by the topic registry. */
export type TopicValidator = (topic: string, value: unknown) => string | undefined;
/** Whether a topic's values are retained by default. Supplied by the topic registry. */
export type RetainPolicy = (topic: string) => boolean | undefined;

interface Subscription {
  readonly pattern: string;
  readonly exact: boolean;
  readonly handler: BusHandler;
}

export interface KernelBusOptions {
  validate?: TopicValidator;
  retainPolicy?: RetainPolicy;
  /** Where exceptions thrown by subscribers go; they never reach the publisher. */
  onHandlerError?: (error: unknown, message: BusMessage, pattern: string) => void;
}

/**
 * The in-process bus and state store. Delivery is synchronous and in subscription order, so a
 * value published by the V2G path reaches its subscribers without a scheduler hop; a subscriber
 * that throws is reported and skipped, never allowed to break the publisher.
 */
export class KernelBus {
  private readonly retained = new Map<string, BusMessage>();
  private readonly exact = new Map<string, Set<Subscription>>();
  private readonly wildcard = new Set<Subscription>();
  private validate: TopicValidator | undefined;
  private retainPolicy: RetainPolicy | undefined;
  private readonly onHandlerError: NonNullable<KernelBusOptions['onHandlerError']>;

  constructor(options: KernelBusOptions = {}) {
    this.validate = options.validate;
    this.retainPolicy = options.retainPolicy;
    this.onHandlerError = options.onHandlerError ?? ((error) => queueMicrotask(() => { throw error; }));
  }

  /** Install the registry's validation once the registry is assembled. */
  setValidation(validate: TopicValidator | undefined, retainPolicy?: RetainPolicy): void {
    this.validate = validate;
    this.retainPolicy = retainPolicy;
  }

  publish(topic: string, value: unknown, origin: BusOrigin, options?: PublishOptions): BusMessage {
    if (topic.length === 0 || topic.includes('+') || topic.includes('#')) {
      throw new BusValidationError(topic, 'a topic to publish on must be non-empty and contain no wildcard');
    }
    const problem = this.validate?.(topic, value);
    if (problem !== undefined) throw new BusValidationError(topic, problem);
    const message: BusMessage = { topic, value, origin, at: Date.now() };
    const retain = options?.retain ?? this.retainPolicy?.(topic) ?? true;
    if (retain) this.retained.set(topic, message);
    this.deliver(message);
    return message;
  }

  subscribe(pattern: string, handler: BusHandler, options?: { replay?: boolean }): Unsubscribe {
    const exact = !pattern.includes('+') && !pattern.includes('#');
    const subscription: Subscription = { pattern, exact, handler };
    if (exact) {
      let set = this.exact.get(pattern);
      if (!set) this.exact.set(pattern, (set = new Set()));
      set.add(subscription);
    } else {
      this.wildcard.add(subscription);
    }
    if (options?.replay) {
      for (const message of this.snapshot(pattern)) this.call(subscription, message);
    }
    return () => {
      if (exact) this.exact.get(pattern)?.delete(subscription);
      else this.wildcard.delete(subscription);
    };
  }

  get<T = unknown>(topic: string): T | undefined {
    return this.retained.get(topic)?.value as T | undefined;
  }

  snapshot(pattern = '#'): BusMessage[] {
    const out: BusMessage[] = [];
    for (const message of this.retained.values()) if (topicMatches(pattern, message.topic)) out.push(message);
    return out;
  }

  /** Forget a retained value (e.g. when the plugin that owned the topic is unloaded). */
  clear(topic: string): void {
    this.retained.delete(topic);
  }

  /** A `Bus` view that stamps every publish with one origin (and that the host can fence). */
  view(origin: BusOrigin): Bus {
    return {
      publish: (topic, value, options) => void this.publish(topic, value, origin, options),
      subscribe: (pattern, handler, options) => this.subscribe(pattern, handler as BusHandler, options),
      get: (topic) => this.get(topic),
      snapshot: (pattern) => this.snapshot(pattern),
    };
  }

  private deliver(message: BusMessage): void {
    const set = this.exact.get(message.topic);
    if (set) for (const subscription of [...set]) this.call(subscription, message);
    for (const subscription of [...this.wildcard]) {
      if (topicMatches(subscription.pattern, message.topic)) this.call(subscription, message);
    }
  }

  private call(subscription: Subscription, message: BusMessage): void {
    try {
      subscription.handler(message);
    } catch (error) {
      this.onHandlerError(error, message, subscription.pattern);
    }
  }
}
