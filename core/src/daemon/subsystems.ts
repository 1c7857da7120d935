import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Kernel } from '../kernel/kernel.js';
import type { CliIO } from '../cli/command.js';
import type { DaemonOptions } from './daemon.js';
import { SimulatedBoard, SimulatedEv, type BoardAdapter } from '../hal/index.js';
import { Iec61851Controller, type Iec61851Config } from '../iec61851/index.js';
import { SlacEvse, controlPilotFromIec61851 } from '../slac/index.js';
import { registerV2g } from '../v2g/subsystem.js';

/** Tokens of the kernel subsystems in the container. */
export const SUBSYSTEMS = {
  Board: Symbol('Board'),
  Charging: Symbol('Charging'),
} as const;

/**
 * Create the board adapter: the simulated board, or a charger maker's adapter module named in
 * config (`board.adapter`, exporting `createBoardAdapter(boardConfig)`).
 */
async function createBoard(kernel: Kernel, options: DaemonOptions): Promise<BoardAdapter> {
  const board = kernel.config.current.board;
  if (options.sim || board.type === 'simulated') return new SimulatedBoard({ plcInterface: options.iface ?? board.plcInterface });
  const adapter = board.adapter;
  if (typeof adapter !== 'string') throw new Error("board.type is 'external' but board.adapter names no module (see docs/hal.md)");
  const module = (await import(adapter.startsWith('.') || adapter.startsWith('/') ? pathToFileURL(resolve(adapter)).href : adapter)) as {
    createBoardAdapter?: (config: unknown) => BoardAdapter | Promise<BoardAdapter>;
  };
  if (typeof module.createBoardAdapter !== 'function') throw new Error(`board adapter module '${adapter}' exports no createBoardAdapter()`);
  return module.createBoardAdapter(board);
}

/** Register the timing-critical subsystems (board, IEC 61851, SLAC, V2G) the options ask for. */
export async function registerSubsystems(kernel: Kernel, options: DaemonOptions, io: CliIO): Promise<void> {
  const board = await createBoard(kernel, options);
  const charging = new Iec61851Controller({
    board,
    bus: kernel.bus.view({ kind: 'kernel', name: 'iec61851' }),
    log: kernel.logs.for('iec61851'),
    config: kernel.config.current.charging as Partial<Iec61851Config>,
  });
  kernel.provide(SUBSYSTEMS.Board, () => board, { capability: 'hal' });
  kernel.provide(SUBSYSTEMS.Charging, () => charging, {
    capability: 'charging',
    // The controller starts and stops the board; its stop ends with contactors open.
    component: (controller) => ({ name: 'iec61851', start: () => controller.start(), stop: () => controller.stop() }),
  });
  if (options.demo && !(board instanceof SimulatedBoard)) throw new Error('--demo needs the simulated board');
  const simulatedEv = options.iface && board instanceof SimulatedBoard ? new SimulatedEv(board) : undefined;
  if (options.iface && options.slac) registerSlac(kernel, options.iface, board, charging, simulatedEv);
  // A real board talks V2G on its PLC interface; the simulated one on --iface, else on ::1 for `secc sim ev`.
  const iface = options.iface ?? (board instanceof SimulatedBoard ? undefined : board.plcInterface);
  registerV2g(kernel, {
    charging,
    sim: options.sim,
    demo: options.demo,
    ...(iface ? { iface } : {}),
    ...(board instanceof SimulatedBoard ? { board } : {}),
    console: io.stderr,
    ...(simulatedEv ? { simulatedEv } : {}),
    // Under --control can the CAN plugin's simulated controller plays the power supply.
    simulatedSupply: options.control !== 'can',
  });
}

/**
 * SLAC on a real interface. With a real board the control pilot drives it (5 % PWM, a session per
 * plug-in). With the simulated board there is no car to plug in, so the EVSE listens all the time
 * and a matching attempt is what "plugs in" the simulated EV (state B), as CONTRACTS.md specifies.
 */
function registerSlac(kernel: Kernel, iface: string, board: BoardAdapter, charging: Iec61851Controller, simulated: SimulatedEv | undefined): void {
  let evse: SlacEvse | undefined;
  kernel.lifecycle.add({
    name: 'slac',
    dependsOn: ['iec61851'],
    start: async () => {
      evse = await SlacEvse.open(iface, {
        log: kernel.logs.for('slac'),
        bus: kernel.bus.view({ kind: 'kernel', name: 'slac' }),
        ...(simulated ? {} : { controlPilot: controlPilotFromIec61851(charging) }),
      });
      if (simulated) {
        charging.setHighLevelCommunication(true);
        evse.on('session', () => {
          if (!simulated.isPluggedIn) simulated.plugIn();
        });
      }
      evse.start();
    },
    stop: () => evse?.stop(),
  });
}
