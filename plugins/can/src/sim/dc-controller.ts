/**
 * A simulated DC power-supply controller on the CAN side: the charger maker's controller as the
 * message database describes it. It listens to the stack's status and EV targets, and sends its
 * cyclic status (authorization, isolation result), limits and measured output — with a power
 * module that ramps towards the EV's targets and an isolation monitor that takes its time.
 * `secc start --sim --control can` runs it in the daemon on the virtual bus; the tests drive it,
 * make it go silent, or make it send something else.
 */
import type { Logger } from '@opensecc/plugin-api';
import { encodeMessage, readRaw } from '../dbc/codec.js';
import type { CanFrame, CanTransport } from '../transport/types.js';
import type { ApiMessage, CanApi } from '../interface/api.js';
import { decodeSignal, encodeSignal, toPhysicalValue, type PhysicalValue } from '../interface/values.js';

export interface SimulatedDcControllerOptions {
  readonly api: CanApi;
  readonly transport: CanTransport;
  readonly log?: Logger;
  readonly maxVoltage?: number;
  readonly maxCurrent?: number;
  readonly maxPower?: number;
  readonly minVoltage?: number;
  readonly minCurrent?: number;
  /** V/s (default 400). */
  readonly voltageRampPerS?: number;
  /** A/s (default 200). */
  readonly currentRampPerS?: number;
  /** How long the isolation test takes (default 300 ms). */
  readonly isolationTestMs?: number;
  readonly isolationResult?: 'Valid' | 'Warning' | 'Fault';
  /** Accept every session (default true): authorization Accepted from session setup on. */
  readonly authorize?: boolean;
  /** Control-loop period (default 25 ms). */
  readonly tickMs?: number;
}

const T = {
  state: 'ci/hlc/session/state',
  targetVoltage: 'ci/hlc/ev/target_voltage',
  targetCurrent: 'ci/hlc/ev/target_current',
  presentVoltage: 'ci/hlc/evse/present_voltage',
  presentCurrent: 'ci/hlc/evse/present_current',
  maxVoltage: 'ci/hlc/evse/max_voltage',
  maxCurrent: 'ci/hlc/evse/max_current',
  maxPower: 'ci/hlc/evse/max_power',
  minVoltage: 'ci/hlc/evse/min_voltage',
  minCurrent: 'ci/hlc/evse/min_current',
  ripple: 'ci/hlc/evse/peak_current_ripple',
  tolerance: 'ci/hlc/evse/current_regulation_tolerance',
  status: 'ci/hlc/evse/status_code',
  isolation: 'ci/hlc/evse/isolation_status',
  authorization: 'ci/hlc/evse/authorization',
  processing: 'ci/hlc/evse/processing',
  stop: 'ci/hlc/evse/stop_charging',
  errorShutdown: 'ci/hlc/evse/error_shutdown',
} as const;

const AUTHORIZATION_STATES = new Set(['session_setup', 'service_discovery', 'payment_selection', 'authorization']);
const OFF_STATES = new Set(['idle', 'sdp', 'stopped', 'error']);

export class SimulatedDcController {
  /** What the stack reported, by topic (as decoded from its frames). */
  readonly fromStack = new Map<string, unknown>();
  /** What this controller sends, by topic. Tests may set entries (stop charging, a fault). */
  readonly outputs = new Map<string, unknown>();
  private readonly o: Required<Omit<SimulatedDcControllerOptions, 'api' | 'transport' | 'log'>>;
  private readonly timers: NodeJS.Timeout[] = [];
  private isolationTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private silent = false;
  private voltage = 0;
  private current = 0;
  private setVoltage = 0;
  private voltageAtPrecharge = 0;
  private last = 0;
  private state = 'idle';
  private sent = 0;

  constructor(private readonly options: SimulatedDcControllerOptions) {
    this.o = {
      maxVoltage: options.maxVoltage ?? 500,
      maxCurrent: options.maxCurrent ?? 200,
      maxPower: options.maxPower ?? 100_000,
      minVoltage: options.minVoltage ?? 150,
      minCurrent: options.minCurrent ?? 0,
      voltageRampPerS: options.voltageRampPerS ?? 400,
      currentRampPerS: options.currentRampPerS ?? 200,
      isolationTestMs: options.isolationTestMs ?? 300,
      isolationResult: options.isolationResult ?? 'Valid',
      authorize: options.authorize ?? true,
      tickMs: options.tickMs ?? 25,
    };
    const pv = (amount: number, unit: string) => toPhysicalValue(amount, unit, -1);
    this.outputs.set(T.maxVoltage, pv(this.o.maxVoltage, 'V'));
    this.outputs.set(T.maxCurrent, pv(this.o.maxCurrent, 'A'));
    this.outputs.set(T.maxPower, pv(this.o.maxPower, 'W'));
    this.outputs.set(T.minVoltage, pv(this.o.minVoltage, 'V'));
    this.outputs.set(T.minCurrent, pv(this.o.minCurrent, 'A'));
    this.outputs.set(T.ripple, pv(5, 'A'));
    this.outputs.set(T.tolerance, pv(5, 'A'));
    this.outputs.set(T.status, 'EVSE_Ready');
    this.outputs.set(T.isolation, 'Invalid');
    this.outputs.set(T.authorization, 'Ongoing');
    this.outputs.set(T.processing, 'Finished');
    this.outputs.set(T.stop, false);
    this.outputs.set(T.errorShutdown, false);
    this.publishPresent();
  }

  get presentVoltage(): number {
    return this.voltage;
  }

  get presentCurrent(): number {
    return this.current;
  }

  /** Frames sent so far. */
  get framesSent(): number {
    return this.sent;
  }

  async start(): Promise<void> {
    const { api, transport } = this.options;
    this.unsubscribe = transport.onFrame((frame) => this.receive(frame));
    await transport.open();
    for (const message of api.messages.filter((m) => m.direction === 'rx')) this.timers.push(setInterval(() => this.send(message), message.cycleMs));
    this.last = Date.now();
    this.timers.push(setInterval(() => this.tick(), this.o.tickMs));
    this.options.log?.info({ transport: transport.name }, 'simulated DC power-supply controller on CAN started');
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    if (this.isolationTimer) clearTimeout(this.isolationTimer);
    this.unsubscribe?.();
    await this.options.transport.close();
  }

  /** Stop sending (a controller that hangs or loses its bus connection); it keeps listening. */
  silence(): void {
    this.silent = true;
    this.options.log?.warn('simulated controller goes silent');
  }

  resume(): void {
    this.silent = false;
  }

  private send(message: ApiMessage): void {
    if (this.silent) return;
    const raws = new Map<string, number>();
    for (const s of message.signals) {
      const raw = encodeSignal(s, this.outputs.get(s.topic));
      if (raw !== undefined) raws.set(s.signal.name, raw);
    }
    try {
      this.options.transport.send({ id: message.message.id, extended: true, data: encodeMessage(message.message, raws) });
      this.sent++;
    } catch (error) {
      this.options.log?.warn({ err: error }, 'simulated controller: send failed');
    }
  }

  private receive(frame: CanFrame): void {
    const message = this.options.api.byId.get(frame.id);
    if (!frame.extended || !message || message.direction !== 'tx' || frame.data.length !== message.message.dlc) return;
    for (const s of message.signals) {
      const decoded = decodeSignal(s, readRaw(s.signal, frame.data));
      if (!decoded.ok) return;
      if (decoded.sna) this.fromStack.delete(s.topic);
      else this.fromStack.set(s.topic, decoded.value);
    }
    const state = this.fromStack.get(T.state);
    if (typeof state === 'string' && state !== this.state) this.onState(state);
  }

  private onState(state: string): void {
    this.state = state;
    if (OFF_STATES.has(state)) {
      // Ready for the next session: a new decision, a new isolation test.
      this.outputs.set(T.authorization, 'Ongoing');
      this.outputs.set(T.isolation, 'Invalid');
      this.setVoltage = 0;
    }
    if (AUTHORIZATION_STATES.has(state) && this.o.authorize) this.outputs.set(T.authorization, 'Accepted');
    if (state === 'cable_check' && !this.isolationTimer) {
      // The isolation test: output energised at a test voltage, then the monitor's verdict.
      this.setVoltage = Math.min(this.o.maxVoltage, 500);
      this.isolationTimer = setTimeout(() => {
        this.isolationTimer = undefined;
        this.outputs.set(T.isolation, this.o.isolationResult);
        this.setVoltage = 0;
        this.options.log?.info({ result: this.o.isolationResult }, 'simulated isolation test done');
      }, this.o.isolationTestMs);
    }
  }

  private target(topic: string): number {
    const value = this.fromStack.get(topic) as PhysicalValue | undefined;
    return value ? value.value * 10 ** value.multiplier : 0;
  }

  private tick(): void {
    const now = Date.now();
    const dt = Math.max(0, (now - this.last) / 1000);
    this.last = now;
    const state = this.state;
    const delivering = state === 'charging';
    const energised = delivering || state === 'pre_charge' || state === 'cable_check' || state === 'power_delivery';
    if (state === 'pre_charge' || delivering) this.setVoltage = Math.min(this.o.maxVoltage, this.target(T.targetVoltage));
    const targetCurrent = delivering ? Math.min(this.o.maxCurrent, this.target(T.targetCurrent)) : 0;
    let targetVoltage = energised ? this.setVoltage : 0;
    if (delivering) targetVoltage = Math.min(this.setVoltage, this.voltageAtPrecharge + this.current * 0.05);
    this.current = approach(this.current, Math.min(targetCurrent, this.o.maxPower / Math.max(1, this.voltage)), this.o.currentRampPerS * dt);
    this.voltage = approach(this.voltage, targetVoltage, this.o.voltageRampPerS * dt);
    if (state === 'pre_charge') this.voltageAtPrecharge = this.voltage;
    this.publishPresent();
  }

  private publishPresent(): void {
    this.outputs.set(T.presentVoltage, toPhysicalValue(this.voltage, 'V', -1));
    this.outputs.set(T.presentCurrent, toPhysicalValue(this.current, 'A', -1));
  }
}

function approach(value: number, target: number, step: number): number {
  if (Math.abs(target - value) <= step) return target;
  return value + Math.sign(target - value) * step;
}
