/**
 * A simulated AC charging point's customer side for ISO 15118-2 (what `secc start --sim` runs for
 * AC, next to the simulated DC supply): it publishes the AC limits (EVSEMaxCurrent per phase,
 * EVSENominalVoltage) and a meter whose reading grows with the energy delivered while the session
 * charges, through the same ci/hlc/evse/… topics a real controller publishes.
 */
import type { Bus, Logger } from '@opensecc/plugin-api';
import { fromNumber, magnitude } from '../physical.js';
import { HLC, type HlcSessionState, type PhysicalValue } from '../topics.js';
import { ISO2 } from './topics.js';

export interface SimulatedAcEvseOptions {
  readonly bus: Bus;
  readonly log?: Logger;
  /** EVSEMaxCurrent per phase, A (default 32). */
  readonly maxCurrent?: number;
  /** EVSENominalVoltage, V (default 230). */
  readonly nominalVoltage?: number;
  /** Phases wired (default 3). */
  readonly phases?: 1 | 3;
  readonly meterId?: string;
  /** Meter update period (default 200 ms). */
  readonly tickMs?: number;
}

export class SimulatedAcEvse {
  private state: HlcSessionState = 'idle';
  private energyWh = 0;
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private readonly unsubscribes: Array<() => void> = [];
  private readonly o: Required<Omit<SimulatedAcEvseOptions, 'bus' | 'log'>>;

  constructor(private readonly options: SimulatedAcEvseOptions) {
    this.o = {
      maxCurrent: options.maxCurrent ?? 32,
      nominalVoltage: options.nominalVoltage ?? 230,
      phases: options.phases ?? 3,
      meterId: options.meterId ?? 'SIM-METER-1',
      tickMs: options.tickMs ?? 200,
    };
  }

  /** Energy metered so far, Wh. */
  get energy(): number {
    return this.energyWh;
  }

  start(): void {
    const bus = this.options.bus;
    bus.publish(ISO2.evse.acMaxCurrent, fromNumber(this.o.maxCurrent, 'A'));
    bus.publish(ISO2.evse.nominalVoltage, fromNumber(this.o.nominalVoltage, 'V', 0));
    bus.publish(ISO2.evse.rcd, false);
    this.publishMeter();
    this.unsubscribes.push(bus.subscribe<HlcSessionState>(HLC.session.state, (m) => (this.state = m.value)));
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  private tick(): void {
    const now = Date.now();
    const hours = Math.max(0, now - this.last) / 3_600_000;
    this.last = now;
    if (this.state !== 'charging') return;
    // The EV draws at most its own per-phase maximum (from ChargeParameterDiscovery), at most ours.
    const evMax = this.options.bus.get<PhysicalValue>(ISO2.ev.acMaxCurrent);
    const amps = Math.min(this.o.maxCurrent, evMax ? magnitude(evMax) : this.o.maxCurrent);
    const before = Math.floor(this.energyWh);
    this.energyWh += this.o.nominalVoltage * amps * this.o.phases * hours;
    if (Math.floor(this.energyWh) !== before) this.publishMeter();
  }

  private publishMeter(): void {
    this.options.bus.publish(ISO2.evse.meterInfo, { meterId: this.o.meterId, meterReading: Math.floor(this.energyWh), tMeter: Math.floor(Date.now() / 1000) });
  }
}
