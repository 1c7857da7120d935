import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { reportCommand } from '@opensecc/core/cli/commands/report';
import { renderSessionReport, seriesOf, stopReasonOf, summarize } from '@opensecc/core/trace/report';
import type { V2gTraceRecord } from '@opensecc/core/trace/topics';
import { captureIO, fixtureRecords, missingTool, tempDir } from './harness.js';

const noChromium = missingTool('chromium', 'apt-get install -y chromium; .ci/run installs it');

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function chromium(args: string[]): { stdout: string; stderr: string } {
  const profile = mkdtempSync(join(tmpdir(), 'opensecc-chromium-'));
  const result = spawnSync('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  assert.equal(result.status, 0, `chromium failed: ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

const physical = (value: number, unit: string) => ({ Multiplier: 0, Unit: unit, Value: value });

/** A synthetic DIN charge loop: 36 s at 400 V / 100 A (0.4 kWh), then SessionStop. */
function chargeLoop(): V2gTraceRecord[] {
  const out: V2gTraceRecord[] = [];
  const msg = (at: number, direction: 'rx' | 'tx', name: string, body: Record<string, unknown>) =>
    out.push({ at, session: 'LOOP', direction, protocol: 'din', payloadType: 0x8001, hex: '01fe800100000000', decoded: { V2G_Message: { Header: { SessionID: 'LOOP' }, Body: { [name]: body } } } });
  for (let s = 0; s <= 36; s++) {
    const at = 1_700_000_000_000 + s * 1000;
    msg(at, 'rx', 'CurrentDemandReq', { DC_EVStatus: { EVReady: true, EVErrorCode: 'NO_ERROR', EVRESSSOC: 50 + s }, EVTargetVoltage: physical(410, 'V'), EVTargetCurrent: physical(100, 'A') });
    msg(at + 50, 'tx', 'CurrentDemandRes', { ResponseCode: 'OK', EVSEPresentVoltage: physical(400, 'V'), EVSEPresentCurrent: physical(100, 'A') });
  }
  msg(1_700_000_037_000, 'rx', 'SessionStopReq', {});
  msg(1_700_000_037_050, 'tx', 'SessionStopRes', { ResponseCode: 'OK' });
  return out;
}

test('the summary: energy from the EVSE present values, duration, SoC, stop reason', () => {
  const records = chargeLoop();
  const series = seriesOf('LOOP', records);
  const summary = summarize(series, records);
  assert.ok(Math.abs(summary.energyKWh - 0.4) < 1e-9, `energy ${summary.energyKWh}`);
  assert.equal(summary.durationS, 37.05);
  assert.equal(summary.socStart, 50);
  assert.equal(summary.socEnd, 86);
  assert.equal(summary.maxPowerKW, 40);
  assert.equal(summary.stopReason, 'SessionStop requested by the EV');
  assert.deepEqual(series.states.map((s) => s.state), ['CurrentDemand', 'SessionStop']);
  const failing = [...records.slice(0, 4)];
  failing[3] = { ...failing[3]!, decoded: { V2G_Message: { Header: {}, Body: { CurrentDemandRes: { ResponseCode: 'FAILED_SequenceError' } } } } };
  assert.equal(stopReasonOf(failing), 'FAILED_SequenceError in CurrentDemandRes');
});

test('the report of the real DIN session: summary values and one path per series', () => {
  const records = fixtureRecords();
  const html = renderSessionReport('0102030405060708', records);
  assert.match(html, /<th>Protocol<\/th><td>din<\/td>/);
  assert.match(html, /<th>SoC<\/th><td>93 % → 93 %<\/td>/);
  assert.match(html, /without SessionStop/);
  for (const series of ['EV target', 'EVSE present', 'SoC', 'v2g']) assert.ok(html.includes(`data-series="${series}"`), series);
  assert.ok(!/<(link|img|iframe)\b|src=|href=/.test(html), 'self-contained: no external resource');
  const summary = JSON.parse(/<script type="application\/json" id="summary">(.*?)<\/script>/s.exec(html)![1]!) as { durationS: number };
  assert.ok(summary.durationS > 10);
});

test('secc report renders in headless Chromium without errors', { skip: noChromium }, async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'v2g.ndjson'), fixtureRecords().map((r) => JSON.stringify(r)).join('\n') + '\n');
  // The CP state from the MQTT trace joins the state chart.
  const t0 = fixtureRecords()[0]!.at / 1000;
  writeFileSync(join(dir, 'mqtt.log'), `${(t0 - 1).toFixed(9)} ci/cp/state B\n${(t0 + 7).toFixed(9)} ci/cp/state C\n`);
  const out = join(dir, 'report.html');
  const io = captureIO();
  assert.equal(await reportCommand.run(['last', '--dir', dir, '--out', out], io), 0, io.err.text);
  assert.match(io.out.text, /session 0102030405060708, 140 messages/);
  assert.ok(readFileSync(out, 'utf8').includes('cp:C'));

  const { stdout: dom, stderr } = chromium(['--dump-dom', pathToFileURL(out).href]);
  assert.match(dom, /<body data-rendered="ok">/, 'the inline check found four laid-out charts');
  assert.equal((dom.match(/<svg /g) ?? []).length, 4);
  const consoleErrors = stderr.split('\n').filter((l) => /CONSOLE|Uncaught|SyntaxError/.test(l));
  assert.deepEqual(consoleErrors, []);

  const shot = join(dir, 'report.png');
  chromium([`--screenshot=${shot}`, '--window-size=1000,1400', pathToFileURL(out).href]);
  assert.ok(existsSync(shot) && statSync(shot).size > 10_000, 'a screenshot with content');
  assert.equal(readFileSync(shot).subarray(1, 4).toString(), 'PNG');
});

test('secc report: unknown session exits 1; a second positional is bad usage', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'v2g.ndjson'), chargeLoop().map((r) => JSON.stringify(r)).join('\n') + '\n');
  const io = captureIO();
  assert.equal(await reportCommand.run(['nope', '--dir', dir, '--out', join(dir, 'x.html')], io), 1);
  assert.match(io.err.text, /no session 'nope'.*LOOP/);
  await assert.rejects(reportCommand.run(['a', 'b', '--dir', dir], captureIO()), /unexpected argument 'b'/);
});

test('the session recorder writes the report of the session that just ended (the demo does this)', async () => {
  const { KernelBus } = await import('@opensecc/core/kernel/bus');
  const { SessionRecorder } = await import('@opensecc/core/trace/session-recorder');
  const bus = new KernelBus();
  const recorder = new SessionRecorder(bus.view({ kind: 'kernel', name: 'demo' }), 2);
  const origin = { kind: 'kernel', name: 'v2g' } as const;
  for (const id of ['A', 'B', 'C']) bus.publish('ci/trace/v2g', { ...chargeLoop()[0]!, session: id }, origin, { retain: false });
  for (const record of chargeLoop()) bus.publish('ci/trace/v2g', record, origin, { retain: false });
  assert.deepEqual(recorder.ids(), ['C', 'LOOP'], 'bounded to the most recent sessions');
  const out = join(tempDir(), 'demo.html');
  assert.equal(await recorder.writeReport(out), true);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /Charging session LOOP/);
  assert.match(html, /0\.400 kWh/);
  recorder.close();
  assert.equal(await recorder.writeReport(out, 'nope'), false);
});
