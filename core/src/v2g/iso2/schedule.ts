/**
 * SAScheduleList (the PMax schedules and sales tariffs of ChargeParameterDiscoveryRes) from the
 * customer's topics or the config, and the check of the EV's ChargingProfile against the chosen
 * schedule (ISO 15118-2: FAILED_ChargingProfileInvalid when the EV plans more than it is allowed).
 * Times are seconds relative to the ChargeParameterDiscoveryRes, as both the schedule's
 * RelativeTimeInterval and the profile's ChargingProfileEntryStart are.
 */
import { exiMagnitude, magnitude, toExi, type ExiPhysicalValue } from '../physical.js';
import type { PhysicalValue } from '../topics.js';
import type { SalesTariff, SaSchedule } from './topics.js';

export const DEFAULT_SCHEDULE_DURATION_S = 86_400;

export class ScheduleError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ScheduleError';
  }
}

/** Semantic checks the JSON schema cannot make; throws ScheduleError naming the entry. */
export function checkSchedules(schedules: readonly SaSchedule[], where: string): void {
  if (schedules.length === 0) throw new ScheduleError('no schedule', where);
  const ids = new Set<number>();
  schedules.forEach((schedule, i) => {
    const at = `${where}[${i}]`;
    if (ids.has(schedule.id)) throw new ScheduleError(`duplicate id ${schedule.id}`, at);
    ids.add(schedule.id);
    if (schedule.entries.length === 0) throw new ScheduleError('no entries', `${at}.entries`);
    if (schedule.entries[0]!.start !== 0) throw new ScheduleError('the first entry must start at 0', `${at}.entries[0].start`);
    for (let k = 1; k < schedule.entries.length; k++) {
      if (schedule.entries[k]!.start <= schedule.entries[k - 1]!.start) throw new ScheduleError('entries must start in ascending order', `${at}.entries[${k}].start`);
    }
    const end = schedule.duration ?? DEFAULT_SCHEDULE_DURATION_S;
    if (end <= schedule.entries[schedule.entries.length - 1]!.start) throw new ScheduleError(`duration ${end} s ends before the last entry starts`, `${at}.duration`);
    schedule.entries.forEach((entry, k) => {
      if (entry.maxPower.value < 0) throw new ScheduleError('negative power', `${at}.entries[${k}].maxPower`);
    });
  });
}

/** One schedule, the EVSE maximum power for 24 h. */
export function defaultSchedules(maxPower: PhysicalValue): SaSchedule[] {
  return [{ id: 1, duration: DEFAULT_SCHEDULE_DURATION_S, entries: [{ start: 0, maxPower }] }];
}

/** The SAScheduleList element; at most `maxEntries` PMax entries per schedule (MaxEntriesSAScheduleTuple). */
export function saScheduleList(schedules: readonly SaSchedule[], commonTariff: SalesTariff | undefined, maxEntries?: number): Record<string, unknown> {
  return {
    SAScheduleTuple: schedules.map((schedule) => {
      const entries = maxEntries !== undefined && maxEntries > 0 ? schedule.entries.slice(0, maxEntries) : schedule.entries;
      const end = schedule.duration ?? DEFAULT_SCHEDULE_DURATION_S;
      const tuple: Record<string, unknown> = {
        SAScheduleTupleID: schedule.id,
        PMaxSchedule: {
          PMaxScheduleEntry: entries.map((entry, k) => ({
            // The last entry carries the duration up to the end of the schedule ([V2G2-xxx]: the schedule's length).
            RelativeTimeInterval: k === entries.length - 1 ? { start: entry.start, duration: end - entry.start } : { start: entry.start },
            PMax: toExi(entry.maxPower),
          })),
        },
      };
      const tariff = schedule.salesTariff ?? commonTariff;
      if (tariff) tuple.SalesTariff = salesTariffElement(tariff, end);
      return tuple;
    }),
  };
}

function salesTariffElement(tariff: SalesTariff, end: number): Record<string, unknown> {
  const element: Record<string, unknown> = { Id: `tariff${tariff.id}`, SalesTariffID: tariff.id };
  if (tariff.description !== undefined) element.SalesTariffDescription = tariff.description;
  if (tariff.numEPriceLevels !== undefined) element.NumEPriceLevels = tariff.numEPriceLevels;
  element.SalesTariffEntry = tariff.entries.map((entry, k) => {
    const last = k === tariff.entries.length - 1;
    const out: Record<string, unknown> = { RelativeTimeInterval: last ? { start: entry.start, duration: Math.max(0, end - entry.start) } : { start: entry.start } };
    if (entry.ePriceLevel !== undefined) out.EPriceLevel = entry.ePriceLevel;
    if (entry.relativePricePercentage !== undefined) {
      out.ConsumptionCost = [{ startValue: { Multiplier: 0, Unit: 'W', Value: 0 }, Cost: [{ costKind: 'relativePricePercentage', amount: entry.relativePricePercentage }] }];
    }
    return out;
  });
  return element;
}

interface ExiProfileEntry {
  readonly ChargingProfileEntryStart?: unknown;
  readonly ChargingProfileEntryMaxPower?: unknown;
  readonly ChargingProfileEntryMaxNumberOfPhasesInUse?: unknown;
}

/**
 * Why the EV's charging profile does not fit the schedule, or undefined when it does: entries in
 * ascending order, each within the schedule's time span, and at no time above the schedule's PMax
 * (an entry holds until the next one starts; the last one until the schedule ends).
 */
export function chargingProfileViolation(profile: unknown, schedule: SaSchedule): string | undefined {
  const list = (profile as { ProfileEntry?: unknown } | undefined)?.ProfileEntry;
  if (!Array.isArray(list) || list.length === 0) return 'ChargingProfile without ProfileEntry';
  const end = schedule.duration ?? DEFAULT_SCHEDULE_DURATION_S;
  const entries = list as ExiProfileEntry[];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const start = entry.ChargingProfileEntryStart;
    const power = entry.ChargingProfileEntryMaxPower as ExiPhysicalValue | undefined;
    if (typeof start !== 'number' || !power || typeof power.Value !== 'number') return `ProfileEntry[${i}] incomplete`;
    if (power.Unit !== undefined && power.Unit !== 'W') return `ProfileEntry[${i}] power in ${power.Unit}, not W`;
    const previous = entries[i - 1]?.ChargingProfileEntryStart;
    if (typeof previous === 'number' && start <= previous) return `ProfileEntry[${i}] starts at ${start} s, not after the previous entry (${previous} s)`;
    if (start >= end) return `ProfileEntry[${i}] starts at ${start} s, after the schedule ends (${end} s)`;
    const next = entries[i + 1]?.ChargingProfileEntryStart;
    const until = typeof next === 'number' ? Math.min(next, end) : end;
    const allowed = maxPowerBetween(schedule, start, until);
    const planned = exiMagnitude(power);
    if (planned > allowed * (1 + 1e-9)) return `ProfileEntry[${i}] plans ${planned} W from ${start} s, the schedule allows ${allowed} W`;
  }
  return undefined;
}

/** The smallest PMax of the schedule entries in force at some time in [from, until). */
function maxPowerBetween(schedule: SaSchedule, from: number, until: number): number {
  let allowed = Number.POSITIVE_INFINITY;
  schedule.entries.forEach((entry, k) => {
    const entryEnd = schedule.entries[k + 1]?.start ?? schedule.duration ?? DEFAULT_SCHEDULE_DURATION_S;
    if (entry.start < until && entryEnd > from) allowed = Math.min(allowed, magnitude(entry.maxPower));
  });
  return allowed;
}
