import type { CliIO } from '../cli/command.js';
import type { Kernel } from '../kernel/kernel.js';
import { SimulatedEv, type SimulatedBoard } from '../hal/index.js';

/**
 * `secc start --demo`: a simulated EV goes through basic AC charging sessions (plug in, charge,
 * stop, unplug) over and over, and the console shows the progress. It drives only the simulated
 * board; the stack reacts exactly as it would to a real car's control pilot.
 */
export function runAcDemo(kernel: Kernel, board: SimulatedBoard, io: CliIO): { start(): void; stop(): void } {
  const ev = new SimulatedEv(board);
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | undefined;
  const say = (text: string) => io.stderr.write(`[demo] ${text}\n`);
  const at = (ms: number, step: () => void) => timers.push(setTimeout(step, ms));

  const session = () => {
    say('EV plugs in');
    ev.plugIn();
    at(1500, () => {
      say('EV requests power');
      ev.requestPower();
    });
    at(6500, () => {
      say('EV stops charging');
      ev.stopPower();
    });
    at(8000, () => {
      say('EV unplugs');
      ev.unplug();
    });
    at(10000, session);
  };

  return {
    start() {
      unsubscribe = kernel.bus.subscribe('ci/#', (m) => {
        if (/^ci\/(cp\/state|cp\/duty_cycle|contactor\/state|charging\/state|plug_lock\/state)$/.test(m.topic)) say(`${m.topic} = ${JSON.stringify(m.value)}`);
      });
      say('simulated AC session starts; Ctrl-C stops the daemon');
      session();
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
      unsubscribe?.();
      if (ev.isPluggedIn) ev.unplug();
    },
  };
}
