/**
 * THE ONE PLACE to swap in the real IEC 61851 state machine.
 *
 * Until the kernel's state machine and simulated board are wired, `createSession` returns a
 * stand-in that publishes on the bus what the state machine would, with the kernel's origin, and
 * reacts to the customer's `ci/charging/enable` and `ci/charging/ac_max_current` from the bus.
 * Replace its body with: start the real state machine on `bus` over the simulated board, and map
 * the `SimulatedEv` actions to the board's CP/PP inputs. The tests only see `SessionUnderTest`.
 */
import type { KernelBus } from '@opensecc/core/kernel/bus';
import { KERNEL } from './stack.js';

/** What the simulated EV does, as the tests drive it. */
export interface SimulatedEv {
  plugIn(cableRatingA: number): void;
  requestEnergy(): void;
  /** The EV stops drawing and goes back to state B. */
  stopRequesting(): void;
  unplug(): void;
}

export interface SessionUnderTest {
  readonly ev: SimulatedEv;
  stop(): void;
}

/** IEC 61851-1 Annex A: duty cycle (%) for a current offer of 6..51 A. */
const dutyFor = (amps: number) => Math.round((amps / 0.6) * 10) / 10;

export function createSession(bus: KernelBus): SessionUnderTest {
  const put = (topic: string, value: unknown) => bus.publish(topic, value, KERNEL);
  let state = 'idle';
  let cable: number | null = null;
  const setState = (next: string) => {
    state = next;
    put('ci/charging/state', next);
  };
  const offer = (): number | undefined => {
    const enabled = bus.get<boolean>('ci/charging/enable') ?? true;
    const limit = Math.min(bus.get<number>('ci/charging/ac_max_current') ?? 32, cable ?? 0, 32);
    return enabled && limit >= 6 ? limit : undefined;
  };
  const applyOffer = () => {
    const amps = offer();
    if (state === 'connected' && amps !== undefined) {
      put('ci/cp/duty_cycle', dutyFor(amps));
      setState('ready');
    } else if ((state === 'ready' || state === 'charging') && amps !== undefined) {
      put('ci/cp/duty_cycle', dutyFor(amps));
    } else if (state === 'ready' && amps === undefined) {
      put('ci/cp/duty_cycle', 100);
      setState('connected');
    } else if (state === 'charging' && amps === undefined) {
      put('ci/cp/duty_cycle', 100);
      setState('stopping');
    }
  };

  put('ci/cp/state', 'A');
  put('ci/cp/duty_cycle', 100);
  put('ci/pp/max_current', null);
  put('ci/contactor/state', 'open');
  put('ci/plug_lock/state', 'unlocked');
  put('ci/error/active', []);
  setState('idle');
  const unsubscribe = [
    bus.subscribe('ci/charging/enable', applyOffer),
    bus.subscribe('ci/charging/ac_max_current', applyOffer),
  ];

  const ev: SimulatedEv = {
    plugIn(rating) {
      cable = rating;
      put('ci/pp/max_current', rating);
      put('ci/cp/state', 'B');
      setState('connected');
      put('ci/plug_lock/state', 'locking');
      put('ci/plug_lock/state', 'locked');
      applyOffer();
    },
    requestEnergy() {
      put('ci/cp/state', 'C');
      if (state !== 'ready') return;
      setState('starting');
      put('ci/contactor/state', 'closing');
      put('ci/contactor/state', 'closed');
      setState('charging');
    },
    stopRequesting() {
      put('ci/cp/state', 'B');
      if (state === 'charging') setState('stopping');
      if (state !== 'stopping') return;
      put('ci/contactor/state', 'opening');
      put('ci/contactor/state', 'open');
      setState('connected');
      applyOffer();
    },
    unplug() {
      cable = null;
      put('ci/cp/state', 'A');
      put('ci/cp/duty_cycle', 100);
      put('ci/plug_lock/state', 'unlocking');
      put('ci/plug_lock/state', 'unlocked');
      put('ci/pp/max_current', null);
      setState('idle');
    },
  };
  return { ev, stop: () => unsubscribe.forEach((u) => u()) };
}
