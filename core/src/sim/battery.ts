import type { DinEvModel } from '../v2g/din/evcc.js';

export interface BatteryOptions {
  /** Usable capacity in Wh (default 40 000). */
  readonly capacityWh?: number;
  /** State of charge at plug-in, percent (default 40). */
  readonly initialSoc?: number;
  /** The EV stops at this SoC, percent (default 80). */
  readonly targetSoc?: number;
  /** Open-circuit voltage at 0 % and 100 % SoC (default 330 V and 410 V). */
  readonly emptyVoltage?: number;
  readonly fullVoltage?: number;
  readonly maxCurrent?: number;
  readonly maxVoltage?: number;
  readonly maxPower?: number;
  /** Simulated seconds per real second (default 1): makes a long charge short. */
  readonly speed?: number;
  /** EVCCID (MAC, hex). */
  readonly evccId?: string;
}

/**
 * A simple traction battery: open-circuit voltage linear in SoC, constant-current charging with a
 * linear taper above 80 % SoC, energy counted from the EVSE's present voltage and current.
 */
export class Battery implements DinEvModel {
  readonly evccId: string;
  readonly capacityWh: number;
  readonly targetSoc: number;
  private socPercent: number;
  private energyWh = 0;
  private readonly o: Required<Omit<BatteryOptions, 'evccId' | 'capacityWh' | 'initialSoc' | 'targetSoc'>>;

  constructor(options: BatteryOptions = {}) {
    this.capacityWh = options.capacityWh ?? 40_000;
    this.socPercent = options.initialSoc ?? 40;
    this.targetSoc = options.targetSoc ?? 80;
    this.evccId = (options.evccId ?? '02005e0a0b0c').toLowerCase();
    this.o = {
      emptyVoltage: options.emptyVoltage ?? 330,
      fullVoltage: options.fullVoltage ?? 410,
      maxCurrent: options.maxCurrent ?? 125,
      maxVoltage: options.maxVoltage ?? 420,
      maxPower: options.maxPower ?? 50_000,
      speed: options.speed ?? 1,
    };
    if (!(this.capacityWh > 0)) throw new RangeError(`battery capacity must be > 0 Wh, got ${this.capacityWh}`);
    for (const [name, value] of [['initial SoC', this.socPercent], ['target SoC', this.targetSoc]] as const) {
      if (!(value >= 0 && value <= 100)) throw new RangeError(`${name} must be 0-100 %, got ${value}`);
    }
  }

  /** Energy taken in so far, Wh. */
  get energy(): number {
    return this.energyWh;
  }

  soc(): number {
    return this.socPercent;
  }

  limits(): { maxVoltage: number; maxCurrent: number; maxPower: number; capacityWh: number } {
    return { maxVoltage: this.o.maxVoltage, maxCurrent: this.o.maxCurrent, maxPower: this.o.maxPower, capacityWh: this.capacityWh };
  }

  batteryVoltage(): number {
    return Math.round(this.o.emptyVoltage + ((this.o.fullVoltage - this.o.emptyVoltage) * this.socPercent) / 100);
  }

  requestedCurrent(): number {
    const taper = this.socPercent <= 80 ? 1 : Math.max(0.1, (100 - this.socPercent) / 20);
    const byPower = this.o.maxPower / Math.max(1, this.batteryVoltage());
    return Math.round(Math.min(this.o.maxCurrent * taper, byPower));
  }

  absorb(volts: number, amps: number, ms: number): void {
    if (!(volts > 0) || !(amps > 0) || !(ms > 0)) return;
    const wh = (volts * amps * (ms / 3_600_000)) * this.o.speed;
    this.energyWh += wh;
    this.socPercent = Math.min(100, this.socPercent + (wh / this.capacityWh) * 100);
  }

  complete(): boolean {
    return this.socPercent >= this.targetSoc;
  }
}
