/**
 * A simulated DC power module with isolation monitor, acting as the customer's power electronics
 * controller would: it publishes its limits, answers the cable check with an isolation result, and
 * follows the EV's targets from the bus with ramping present voltage and current — all through the
 * same ci/hlc/evse/… topics a real controller publishes (over MQTT or in-process).
 */
import type { Bus, BusMessage, Logger } from '@opensecc/plugin-api';
import { fromNumber, magnitude } from '../v2g/physical.js';
import { HLC, type HlcSessionState, type PhysicalValue } from '../v2g/topics.js';

export interface DcPowerSupplyOptions {
  readonly bus: Bus;
  readonly log?: Logger;
  readonly maxVoltage?: number;
  readonly maxCurrent?: number;
  readonly maxPower?: number;
  readonly minVoltage?: number;
  readonly minCurrent?: number;
  /** Voltage slew rate, V/s (default 400). */
  readonly voltageRampPerS?: number;
  /** Current slew rate, A/s (default 200). */
  readonly currentRampPerS?: number;
  /** How long the simulated isolation test takes (default 300 ms). */
  readonly isolationTestMs?: number;
  /** Isolation result (default Valid). */
  readonly isolationResult?: 'Valid' | 'Warning' | 'Fault';
  /** Internal resistance of the cable/battery seen while charging, Ω (voltage rises with current). */
  readonly resistanceOhm?: number;
  /** Control-loop period (default 25 ms). */
  readonly tickMs?: number;
  /** Also publish ci/hlc/evse/authorization=Accepted at session start (free charging). */
  readonly authorize?: boolean;
}

export class SimulatedDcPowerSupply {
  private voltage = 0;
  private current = 0;
  private setVoltage = 0;
  private setCurrent = 0;
  private state: HlcSessionState = 'idle';
  private timer: NodeJS.Timeout | undefined;
  private isolationTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribes: Array<() => void> = [];
  private last = 0;
  private readonly o: Required<Omit<DcPowerSupplyOptions, 'bus' | 'log'>>;

  constructor(private readonly options: DcPowerSupplyOptions) {
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
      resistanceOhm: options.resistanceOhm ?? 0.05,
      tickMs: options.tickMs ?? 25,
      authorize: options.authorize ?? false,
    };
  }

  get presentVoltage(): number {
    return this.voltage;
  }

  get presentCurrent(): number {
    return this.current;
  }

  start(): void {
    const bus = this.options.bus;
    bus.publish(HLC.evse.maxVoltage, fromNumber(this.o.maxVoltage, 'V'));
    bus.publish(HLC.evse.maxCurrent, fromNumber(this.o.maxCurrent, 'A'));
    bus.publish(HLC.evse.maxPower, fromNumber(this.o.maxPower, 'W', 0));
    bus.publish(HLC.evse.minVoltage, fromNumber(this.o.minVoltage, 'V'));
    bus.publish(HLC.evse.minCurrent, fromNumber(this.o.minCurrent, 'A'));
    bus.publish(HLC.evse.peakCurrentRipple, fromNumber(5, 'A'));
    bus.publish(HLC.evse.currentRegulationTolerance, fromNumber(5, 'A'));
    bus.publish(HLC.evse.statusCode, 'EVSE_Ready');
    this.publishPresent(true);
    this.unsubscribes.push(
      bus.subscribe<HlcSessionState>(HLC.session.state, (m) => this.onState(m.value)),
      bus.subscribe<PhysicalValue>(HLC.ev.targetVoltage, (m: BusMessage<PhysicalValue>) => (this.setVoltage = Math.min(this.o.maxVoltage, magnitude(m.value)))),
      bus.subscribe<PhysicalValue>(HLC.ev.targetCurrent, (m: BusMessage<PhysicalValue>) => (this.setCurrent = Math.min(this.o.maxCurrent, magnitude(m.value)))),
    );
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.isolationTimer) clearTimeout(this.isolationTimer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.voltage = 0;
    this.current = 0;
  }

  private onState(state: HlcSessionState): void {
    const previous = this.state;
    this.state = state;
    if (state === previous) return;
    if (state === 'session_setup' && this.o.authorize) queueMicrotask(() => this.options.bus.publish(HLC.evse.authorization, 'Accepted'));
    if (state === 'cable_check') {
      // The isolation test: output energised at a test voltage, then the monitor's verdict.
      this.setVoltage = Math.min(this.o.maxVoltage, 500);
      this.isolationTimer = setTimeout(() => {
        this.options.log?.info({ result: this.o.isolationResult }, 'simulated isolation test done');
        this.options.bus.publish(HLC.evse.isolationStatus, this.o.isolationResult);
        this.setVoltage = 0;
      }, this.o.isolationTestMs);
    }
  }

  private tick(): void {
    const now = Date.now();
    const dt = Math.max(0, (now - this.last) / 1000);
    this.last = now;
    const delivering = this.state === 'charging';
    const energised = delivering || this.state === 'pre_charge' || this.state === 'cable_check' || this.state === 'power_delivery';
    const targetCurrent = delivering ? this.setCurrent : 0;
    let targetVoltage = energised ? this.setVoltage : 0;
    if (delivering) targetVoltage = Math.min(this.setVoltage, this.voltageAtPrecharge + this.current * this.o.resistanceOhm);
    this.current = approach(this.current, Math.min(targetCurrent, this.o.maxPower / Math.max(1, this.voltage)), this.o.currentRampPerS * dt);
    this.voltage = approach(this.voltage, targetVoltage, this.o.voltageRampPerS * dt);
    if (this.state === 'pre_charge') this.voltageAtPrecharge = this.voltage;
    this.publishPresent(false);
  }

  private voltageAtPrecharge = 0;

  private publishPresent(force: boolean): void {
    const bus = this.options.bus;
    const v = fromNumber(this.voltage, 'V');
    const a = fromNumber(this.current, 'A');
    const lastV = bus.get<PhysicalValue>(HLC.evse.presentVoltage);
    const lastA = bus.get<PhysicalValue>(HLC.evse.presentCurrent);
    if (force || !lastV || lastV.value !== v.value || lastV.multiplier !== v.multiplier) bus.publish(HLC.evse.presentVoltage, v);
    if (force || !lastA || lastA.value !== a.value || lastA.multiplier !== a.multiplier) bus.publish(HLC.evse.presentCurrent, a);
  }
}

function approach(value: number, target: number, step: number): number {
  if (Math.abs(target - value) <= step) return target;
  return value + Math.sign(target - value) * step;
}
