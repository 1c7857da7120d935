/**
 * `secc start --demo` (what `npm start` runs): an in-process simulated EV charges over DIN 70121 DC
 * through the real V2G stack (SDP on ::1, TCP, the simulated board's control pilot), one session
 * after another, and the console shows state, voltage, current and SoC while it runs.
 */
import type { Bus, Logger } from '@opensecc/plugin-api';
import { SimulatedEv, type SimulatedBoard } from '../hal/index.js';
import { HLC } from '../v2g/topics.js';
import { runEvSimulation } from './ev-simulator.js';

export interface DcDemoOptions {
  readonly board: SimulatedBoard;
  readonly bus: Pick<Bus, 'get'>;
  readonly log: Logger;
  readonly console: NodeJS.WritableStream;
  /** Pause between sessions (default 5 s). */
  readonly pauseMs?: number;
  /** The SECC's SDP port (v2g.sdpPort). */
  readonly sdpPort?: number;
  /** After each session (e.g. to write its report); returns a line for the console, if any. */
  readonly onSessionEnd?: (summary: { stop_reason: string }) => Promise<string | undefined>;
}

export function runDcDemo(options: DcDemoOptions): { start(): void; stop(): void } {
  let running = false;
  let ev: SimulatedEv | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastLine = 0;
  const say = (text: string) => options.console.write(`[demo] ${text}\n`);

  const session = async () => {
    if (!running) return;
    ev = new SimulatedEv(options.board);
    say('EV plugs in (DIN 70121 DC, SoC 30 % → 80 %)');
    const summary = await runEvSimulation({
      protocol: 'din',
      host: '::1',
      ...(options.sdpPort !== undefined ? { sdpPort: options.sdpPort } : {}),
      battery: { initialSoc: 30, targetSoc: 80, capacityWh: 40_000, speed: 120 },
      pilot: ev,
      log: options.log,
      pollMs: 250,
      loopMs: 100,
      onProgress: (p) => {
        const now = Date.now();
        if (p.step === 'CurrentDemand' && now - lastLine < 1000) return;
        lastLine = now;
        const state = options.bus.get<string>(HLC.session.state) ?? '?';
        const v = p.voltage !== undefined ? `${p.voltage.toFixed(1)} V` : '-';
        const a = p.current !== undefined ? `${p.current.toFixed(1)} A` : '-';
        say(`${state.padEnd(26)} ${v.padStart(8)} ${a.padStart(8)}  SoC ${p.soc.toFixed(1)} %`);
      },
    });
    say(`session ${summary.ok ? 'complete' : 'ended'}: ${JSON.stringify({ messages: summary.messages, energy_wh: summary.energy_wh, final_soc: summary.final_soc, stop_reason: summary.stop_reason })}`);
    const line = await options.onSessionEnd?.(summary).catch((error: Error) => `no session report: ${error.message}`);
    if (line) say(line);
    setTimeout(() => ev?.unplug(), 200);
    if (running) timer = setTimeout(() => void session(), options.pauseMs ?? 5000);
  };

  return {
    start() {
      running = true;
      say('simulated DC charging; Ctrl-C stops the daemon');
      timer = setTimeout(() => void session(), 500);
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      if (ev?.isPluggedIn) ev.unplug();
    },
  };
}
