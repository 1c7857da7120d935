import { pino } from 'pino';
import type { Bus } from '@opensecc/plugin-api';
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import {
  SimulatedBoard,
  SimulatedEv,
  type BoardCommand,
  type SimulatedBoardOptions,
  type SimulatedEvOptions,
} from '@opensecc/core/hal/index';
import { Iec61851Controller, iec61851Topics, type Iec61851Config } from '@opensecc/core/iec61851/index';

export interface Seen {
  readonly topic: string;
  readonly value: unknown;
}

export interface HarnessOptions {
  readonly config?: Partial<Iec61851Config>;
  readonly board?: SimulatedBoardOptions;
  readonly ev?: SimulatedEvOptions;
  /** Values the customer publishes before the controller starts (retained, replayed at start). */
  readonly before?: (customer: Bus) => void;
}

/** Small delays keep the tests fast; the logic only depends on their order, not their length. */
export const FAST_TIMING: Partial<Iec61851Config> = {
  contactorFeedbackTimeoutMs: 60,
  plugLockTimeoutMs: 60,
  evStopTimeoutMs: 60,
  faultRecoveryDelayMs: 40,
};

export interface Harness {
  readonly registry: TopicRegistry;
  readonly kernelBus: KernelBus;
  /** The customer's side of the bus (what the MQTT API would publish for them). */
  readonly customer: Bus;
  readonly seen: Seen[];
  readonly handlerErrors: unknown[];
  readonly board: SimulatedBoard;
  readonly ev: SimulatedEv;
  readonly controller: Iec61851Controller;
  /** Wait until the predicate holds; fails (not a timing assertion: a hang guard) after 3 s. */
  until(what: string, predicate: () => boolean): Promise<void>;
  /** Values published on one topic, in order. */
  values(topic: string): unknown[];
  /** Index into board.commands, to look only at commands issued after it. */
  mark(): number;
  commandsSince(mark: number): BoardCommand[];
  dispose(): Promise<void>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const registry = new TopicRegistry();
  registry.add('iec61851', iec61851Topics);
  const handlerErrors: unknown[] = [];
  const kernelBus = new KernelBus({
    validate: (topic, value) => registry.validate(topic, value),
    retainPolicy: (topic) => registry.retained(topic),
    onHandlerError: (error) => handlerErrors.push(error),
  });
  const seen: Seen[] = [];
  kernelBus.subscribe('#', (message) => seen.push({ topic: message.topic, value: message.value }));
  const customer = kernelBus.view({ kind: 'external', name: 'test-customer' });
  options.before?.(customer);
  const board = new SimulatedBoard({ contactorDelayMs: 5, plugLockDelayMs: 5, plcInterface: 'veth-test', ...options.board });
  const ev = new SimulatedEv(board, options.ev);
  const controller = new Iec61851Controller({
    board,
    bus: kernelBus.view({ kind: 'kernel', name: 'iec61851' }),
    log: pino({ level: 'silent' }),
    config: { ...FAST_TIMING, ...options.config },
  });
  await controller.start();

  const until = async (what: string, predicate: () => boolean): Promise<void> => {
    const deadline = Date.now() + 3000;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(
          `gave up waiting for ${what}: charging=${controller.chargingState} cp=${controller.cpState} contactor=${controller.contactorState} ` +
            `lock=${controller.plugLockState} duty=${controller.dutyCycle} errors=${JSON.stringify(controller.activeErrors.map((e) => e.code))}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  return {
    registry,
    kernelBus,
    customer,
    seen,
    handlerErrors,
    board,
    ev,
    controller,
    until,
    values: (topic) => seen.filter((s) => s.topic === topic).map((s) => s.value),
    mark: () => board.commands.length,
    commandsSince: (mark) => board.commands.slice(mark),
    async dispose() {
      ev.dispose();
      await controller.stop();
    },
  };
}

/** Plug in, wait for the offer, request power, wait for charging. */
export async function startCharging(h: Harness): Promise<void> {
  h.ev.plugIn();
  await h.until('PWM offered', () => h.controller.chargingState === 'ready');
  h.ev.requestPower();
  await h.until('charging', () => h.controller.chargingState === 'charging');
}

/** Short wait for events already in flight (microtasks, a few ms timers); used only before negative checks. */
export function settle(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
