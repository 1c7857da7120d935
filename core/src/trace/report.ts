import { findKey, messageBodyOf, messageNameOf, physicalValue } from './messages.js';
import type { V2gTraceRecord } from './topics.js';

/**
 * `secc report`: one self-contained HTML page (inline SVG and CSS, no external resource) that
 * plots one session from its V2G trace: EV target and EVSE present voltage and current, SoC and
 * the state machine over time, with a summary (energy, duration, stop reason).
 */

export interface StateChange {
  readonly at: number;
  /** e.g. 'cp' for the IEC 61851 state, 'v2g' for the message state. */
  readonly machine: string;
  readonly state: string;
}

export interface SessionSeries {
  readonly session: string;
  readonly protocol: string;
  readonly start: number;
  readonly end: number;
  readonly evTargetVoltage: Array<[number, number]>;
  readonly evTargetCurrent: Array<[number, number]>;
  readonly evsePresentVoltage: Array<[number, number]>;
  readonly evsePresentCurrent: Array<[number, number]>;
  readonly soc: Array<[number, number]>;
  readonly states: StateChange[];
  readonly messages: number;
}

export interface SessionSummary {
  readonly durationS: number;
  readonly energyKWh: number;
  readonly maxPowerKW: number;
  readonly socStart: number | undefined;
  readonly socEnd: number | undefined;
  readonly stopReason: string;
}

function pushValue(series: Array<[number, number]>, at: number, value: number | undefined): void {
  if (value !== undefined) series.push([at, value]);
}

/** The series of one session's records (the records of several sessions are not separated here). */
export function seriesOf(session: string, records: readonly V2gTraceRecord[], extraStates: readonly StateChange[] = []): SessionSeries {
  const sorted = [...records].sort((a, b) => a.at - b.at);
  const series: SessionSeries = {
    session,
    protocol: sorted.find((r) => r.protocol !== 'apphand' && r.protocol !== 'sdp')?.protocol ?? sorted[0]?.protocol ?? 'unknown',
    start: sorted[0]?.at ?? 0,
    end: sorted[sorted.length - 1]?.at ?? 0,
    evTargetVoltage: [],
    evTargetCurrent: [],
    evsePresentVoltage: [],
    evsePresentCurrent: [],
    soc: [],
    states: [],
    messages: sorted.length,
  };
  let lastState: string | undefined;
  for (const record of sorted) {
    const name = messageNameOf(record.decoded);
    const body = messageBodyOf(record.decoded);
    if (!name || !body) continue;
    if (record.direction === 'rx') {
      const state = name.replace(/Req$/, '');
      if (state !== lastState) series.states.push({ at: record.at, machine: 'v2g', state });
      lastState = state;
      pushValue(series.evTargetVoltage, record.at, physicalValue(findKey(body, 'EVTargetVoltage')));
      pushValue(series.evTargetCurrent, record.at, physicalValue(findKey(body, 'EVTargetCurrent')));
      const soc = findKey(body, 'EVRESSSOC') ?? findKey(body, 'PresentSOC');
      pushValue(series.soc, record.at, typeof soc === 'number' ? soc : physicalValue(soc));
    } else {
      pushValue(series.evsePresentVoltage, record.at, physicalValue(findKey(body, 'EVSEPresentVoltage')));
      pushValue(series.evsePresentCurrent, record.at, physicalValue(findKey(body, 'EVSEPresentCurrent')));
    }
  }
  series.states.push(...extraStates);
  series.states.sort((a, b) => a.at - b.at);
  return series;
}

/** Why the session ended, as far as its messages tell. */
export function stopReasonOf(records: readonly V2gTraceRecord[]): string {
  const sorted = [...records].sort((a, b) => a.at - b.at);
  for (const record of sorted) {
    const body = messageBodyOf(record.decoded);
    const code = body?.ResponseCode;
    if (typeof code === 'string' && code.startsWith('FAILED')) return `${code} in ${messageNameOf(record.decoded)}`;
    const evseStatus = findKey(body, 'EVSEStatusCode') ?? findKey(body, 'EVSENotification');
    if (typeof evseStatus === 'string' && /Shutdown|Emergency|Malfunction/i.test(evseStatus)) return `EVSE status ${evseStatus} in ${messageNameOf(record.decoded)}`;
    const evError = findKey(body, 'EVErrorCode');
    if (record.direction === 'rx' && typeof evError === 'string' && evError !== 'NO_ERROR') return `EV error ${evError} in ${messageNameOf(record.decoded)}`;
  }
  const stop = sorted.find((r) => messageNameOf(r.decoded) === 'SessionStopReq');
  if (stop) {
    const kind = findKey(messageBodyOf(stop.decoded), 'ChargingSession');
    return `SessionStop requested by the EV${typeof kind === 'string' ? ` (${kind})` : ''}`;
  }
  const last = sorted[sorted.length - 1];
  if (!last) return 'no messages';
  return `the trace ends after ${messageNameOf(last.decoded) ?? 'an undecoded message'} without SessionStop (connection lost, or the trace was cut)`;
}

export function summarize(series: SessionSeries, records: readonly V2gTraceRecord[]): SessionSummary {
  // Energy from the EVSE's present values, trapezoidal between CurrentDemand responses only
  // (PreCharge current flows into the EV's input capacitance, not its battery).
  const power: Array<[number, number]> = [];
  const byTime = new Map(series.evsePresentCurrent);
  for (const [at, volts] of series.evsePresentVoltage) {
    const amps = byTime.get(at);
    if (amps !== undefined) power.push([at, volts * amps]);
  }
  const demandTimes = new Set(records.filter((r) => r.direction === 'tx' && /CurrentDemandRes|ChargeLoopRes/.test(messageNameOf(r.decoded) ?? '')).map((r) => r.at));
  const loop = power.filter(([at]) => demandTimes.has(at));
  let joules = 0;
  for (let i = 1; i < loop.length; i++) {
    const [t0, p0] = loop[i - 1]!;
    const [t1, p1] = loop[i]!;
    joules += ((p0 + p1) / 2) * ((t1 - t0) / 1000);
  }
  return {
    durationS: (series.end - series.start) / 1000,
    energyKWh: Math.max(0, joules) / 3.6e6,
    maxPowerKW: Math.max(0, ...power.map(([, p]) => p)) / 1000,
    socStart: series.soc[0]?.[1],
    socEnd: series.soc[series.soc.length - 1]?.[1],
    stopReason: stopReasonOf(records),
  };
}

const escapeMap: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapeMap[c]!);
}

interface Line {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly dashed?: boolean;
}

const WIDTH = 900;
const HEIGHT = 240;
const MARGIN = { left: 60, right: 20, top: 24, bottom: 34 };

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
}

function chart(id: string, title: string, unit: string, lines: readonly Line[], t0: number, t1: number): string {
  const all = lines.flatMap((l) => l.points.map(([, v]) => v));
  let min = Math.min(0, ...all);
  let max = Math.max(1, ...all);
  if (max === min) max = min + 1;
  max += (max - min) * 0.05;
  const span = Math.max(1, t1 - t0);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (at: number) => MARGIN.left + ((at - t0) / span) * plotW;
  const y = (v: number) => MARGIN.top + plotH - ((v - min) / (max - min)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<text x="${MARGIN.left}" y="16" class="title">${escapeHtml(title)} [${escapeHtml(unit)}]</text>`);
  for (const tick of niceTicks(min, max)) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${(y(tick) + 4).toFixed(1)}" class="tick" text-anchor="end">${fmt(tick)}</text>`);
  }
  for (const tick of niceTicks(0, span / 1000)) {
    const px = x(t0 + tick * 1000);
    parts.push(`<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" class="grid"/>`);
    parts.push(`<text x="${px.toFixed(1)}" y="${HEIGHT - 14}" class="tick" text-anchor="middle">${fmt(tick)} s</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" class="frame"/>`);
  let legendX = WIDTH - MARGIN.right;
  for (const line of [...lines].reverse()) {
    const label = `${line.name}`;
    legendX -= label.length * 7 + 26;
    parts.push(`<line x1="${legendX}" x2="${legendX + 16}" y1="12" y2="12" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${legendX + 20}" y="16" class="legend">${escapeHtml(label)}</text>`);
    if (line.points.length === 0) continue;
    const d = line.points.map(([at, v], i) => `${i === 0 ? 'M' : 'L'}${x(at).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<path class="series" data-series="${escapeHtml(line.name)}" d="${d}" fill="none" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function stateChart(states: readonly StateChange[], t0: number, t1: number): string {
  const machines = [...new Set(states.map((s) => s.machine))];
  const names: string[] = [];
  for (const s of states) if (!names.includes(`${s.machine}:${s.state}`)) names.push(`${s.machine}:${s.state}`);
  const rowH = 18;
  const height = Math.max(80, MARGIN.top + MARGIN.bottom + rowH * names.length);
  const left = 190;
  const plotW = WIDTH - left - MARGIN.right;
  const span = Math.max(1, t1 - t0);
  const x = (at: number) => left + ((Math.min(Math.max(at, t0), t1) - t0) / span) * plotW;
  const y = (key: string) => MARGIN.top + rowH * names.indexOf(key) + rowH / 2;
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const parts = [`<svg id="states" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="state machine">`];
  parts.push(`<text x="${MARGIN.left}" y="16" class="title">State machine over time</text>`);
  for (const key of names) {
    parts.push(`<line x1="${left}" x2="${WIDTH - MARGIN.right}" y1="${y(key)}" y2="${y(key)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${y(key) + 4}" class="tick" text-anchor="end">${escapeHtml(key)}</text>`);
  }
  for (const tick of niceTicks(0, span / 1000)) {
    const px = x(t0 + tick * 1000);
    parts.push(`<text x="${px.toFixed(1)}" y="${height - 14}" class="tick" text-anchor="middle">${fmt(tick)} s</text>`);
  }
  machines.forEach((machine, m) => {
    const own = states.filter((s) => s.machine === machine);
    const points: string[] = [];
    own.forEach((s, i) => {
      const key = `${s.machine}:${s.state}`;
      const next = own[i + 1]?.at ?? t1;
      points.push(`${i === 0 ? 'M' : 'L'}${x(s.at).toFixed(1)},${y(key)}`, `L${x(next).toFixed(1)},${y(key)}`);
    });
    if (points.length) parts.push(`<path class="series" data-series="${escapeHtml(machine)}" d="${points.join(' ')}" fill="none" stroke="${colors[m % colors.length]}" stroke-width="3"/>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function formatNumber(value: number | undefined, digits: number, unit: string): string {
  return value === undefined ? '–' : `${value.toFixed(digits)} ${unit}`;
}

export interface ReportOptions {
  /** Extra state changes to plot (e.g. the IEC 61851 CP state from the MQTT trace). */
  readonly states?: readonly StateChange[];
  /** Overrides the stop reason derived from the messages (the caller may know better). */
  readonly stopReason?: string;
  readonly generatedAt?: Date;
}

/** The report page of one session's records. */
export function renderSessionReport(session: string, records: readonly V2gTraceRecord[], options: ReportOptions = {}): string {
  const series = seriesOf(session, records, options.states);
  const summary = { ...summarize(series, records), ...(options.stopReason ? { stopReason: options.stopReason } : {}) };
  const t0 = Math.min(series.start, ...series.states.map((s) => s.at));
  const t1 = Math.max(series.end, t0 + 1);
  const rows: Array<[string, string]> = [
    ['Session', session],
    ['Protocol', series.protocol],
    ['Start', new Date(series.start).toISOString()],
    ['Duration', `${summary.durationS.toFixed(1)} s`],
    ['Energy delivered', formatNumber(summary.energyKWh, 3, 'kWh')],
    ['Peak power', formatNumber(summary.maxPowerKW, 1, 'kW')],
    ['SoC', `${formatNumber(summary.socStart, 0, '%')} → ${formatNumber(summary.socEnd, 0, '%')}`],
    ['Messages', String(series.messages)],
    ['Stop reason', summary.stopReason],
  ];
  const summaryJson = JSON.stringify({ session, protocol: series.protocol, ...summary }).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>OpenSECC session ${escapeHtml(session)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; }
table.summary { border-collapse: collapse; margin-bottom: 16px; }
table.summary th { text-align: left; padding: 2px 16px 2px 0; color: #555; font-weight: normal; }
svg.chart { display: block; margin: 12px 0; background: #fff; }
svg .grid { stroke: #e4e4e4; stroke-width: 1; }
svg .frame { fill: none; stroke: #999; }
svg .tick, svg .legend { font-size: 11px; fill: #444; }
svg .title { font-size: 13px; font-weight: bold; fill: #222; }
</style>
</head>
<body data-rendered="pending">
<h1>Charging session ${escapeHtml(session)}</h1>
<table class="summary">
${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}
</table>
${chart('voltage', 'Voltage', 'V', [
    { name: 'EV target', color: '#1f77b4', points: series.evTargetVoltage, dashed: true },
    { name: 'EVSE present', color: '#d62728', points: series.evsePresentVoltage },
  ], t0, t1)}
${chart('current', 'Current', 'A', [
    { name: 'EV target', color: '#1f77b4', points: series.evTargetCurrent, dashed: true },
    { name: 'EVSE present', color: '#d62728', points: series.evsePresentCurrent },
  ], t0, t1)}
${chart('soc', 'State of charge', '%', [{ name: 'SoC', color: '#2ca02c', points: series.soc }], t0, t1)}
${stateChart(series.states, t0, t1)}
<script type="application/json" id="summary">${summaryJson}</script>
<script>
// Marks the page as laid out: every chart has a size and the summary parses (checked by the tests in headless Chromium).
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var ok = charts.length === 4;
  for (var i = 0; i < charts.length; i++) { var box = charts[i].getBBox(); if (!(box.width > 0 && box.height > 0)) ok = false; }
  JSON.parse(document.getElementById('summary').textContent);
  document.body.setAttribute('data-rendered', ok ? 'ok' : 'empty');
})();
</script>
</body>
</html>
`;
}
