/**
 * The charging side of the stack as the daemon wires it (core/src/daemon/subsystems.ts): the real
 * IEC 61851 controller on the test's kernel bus, over the simulated board, with a simulated EV
 * (the real `SimulatedEv` of the HAL) that the tests drive: plug in, request power, stop, unplug.
 * Default (production) charging config: what a customer's application would see.
 */
import type { KernelBus } from '@opensecc/core/kernel/bus';
import { SimulatedBoard, SimulatedEv } from '@opensecc/core/hal/index';
import { Iec61851Controller } from '@opensecc/core/iec61851/index';
import { memoryLogger, type LogLine } from './plugin-context.js';

export interface SessionUnderTest {
  readonly board: SimulatedBoard;
  /** The EV with a 32 A cable. */
  readonly ev: SimulatedEv;
  readonly controller: Iec61851Controller;
  readonly logLines: LogLine[];
  /** Stop the controller (contactor open, CP to F) and the EV. */
  stop(): Promise<void>;
}

export async function createSession(bus: KernelBus): Promise<SessionUnderTest> {
  const board = new SimulatedBoard();
  const { log, lines } = memoryLogger('iec61851');
  const controller = new Iec61851Controller({ board, bus: bus.view({ kind: 'kernel', name: 'iec61851' }), log });
  await controller.start();
  const ev = new SimulatedEv(board, { cableMaxCurrentA: 32 });
  let stopped = false;
  return {
    board,
    ev,
    controller,
    logLines: lines,
    async stop() {
      if (stopped) return;
      stopped = true;
      await controller.stop();
      ev.dispose();
    },
  };
}

/** The duty the EVSE drives on the simulated CP line (100 = no PWM), read from the board itself. */
export function boardDuty(board: SimulatedBoard): number {
  const output = board.cpOutput;
  return output.kind === 'pwm' ? output.dutyPercent : output.volts === 12 ? 100 : 0;
}
