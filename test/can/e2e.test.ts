/**
 * DIN 70121 DC sessions end to end with the charge process controlled over the virtual CAN bus
 * only: a kernel as the daemon builds it (simulated board, IEC 61851 controller, V2G on ::1) with
 * the CAN plugin loaded by the plugin host, the MQTT plugins off, no simulated supply on the bus
 * topics — the simulated DC power-supply controller talks CAN frames and nothing else — and the
 * simulated EV over SDP/TCP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { PluginDefinition } from '@opensecc/plugin-api';
import { Kernel } from '@opensecc/core/kernel/kernel';
import { DEFAULTS_FILE } from '@opensecc/core/daemon/paths';
import { builtInPlugins } from '@opensecc/core/daemon/built-in-plugins';
import { SUBSYSTEM_TOPICS } from '@opensecc/core/daemon/subsystem-topics';
import { SimulatedBoard, SimulatedEv } from '@opensecc/core/hal/index';
import { Iec61851Controller } from '@opensecc/core/iec61851/index';
import { runEvSimulation } from '@opensecc/core/sim/ev-simulator';
import { V2gService } from '@opensecc/core/v2g/service';
import { SimulatedDcController, VirtualCanBus, canApiFrom, loadDbc, DEFAULT_DATABASE, type CanStatus } from '@opensecc/plugin-can';
import { recordingLogger } from '#support/log.js';
import { DIN_DC_SEQUENCE, withoutRepeats } from '#support/sequences.js';

class Lines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _e: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

let run = 0;

async function session(options: { silenceAt?: string; targetSoc?: number; pluginSimulator?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'can-e2e-'));
  const canBus = `e2e${++run}`;
  const configFile = join(dir, 'config.json');
  const pluginsOff = Object.fromEntries(builtInPlugins().map((p) => [p.name, { enabled: false }]));
  writeFileSync(
    configFile,
    JSON.stringify({
      log: { level: 'info' },
      pluginHost: { watch: false, watchDir: join(dir, 'plugins'), dataDir: join(dir, 'data'), runDir: join(dir, 'run') },
      plugins: { ...pluginsOff, can: { enabled: true, config: { transport: 'virtual', interface: canBus, simulateController: options.pluginSimulator === true } } },
    }),
  );
  const logs = new Lines();
  const board = new SimulatedBoard({ contactorDelayMs: 5, plugLockDelayMs: 5 });
  let service: V2gService | undefined;
  const kernel = new Kernel({
    defaultsFile: DEFAULTS_FILE,
    configFile,
    logDestination: logs,
    subsystemTopics: SUBSYSTEM_TOPICS,
    // The CAN plugin as the daemon ships it, whatever built-in-plugins.ts lists today.
    builtInPlugins: [{ name: 'can', load: async () => ((await import('@opensecc/plugin-can')) as unknown as { default: PluginDefinition }).default }],
    configure: (k) => {
      const charging = new Iec61851Controller({ board, bus: k.bus.view({ kind: 'kernel', name: 'iec61851' }), log: k.logs.for('iec61851') });
      service = new V2gService({ bus: k.bus.view({ kind: 'kernel', name: 'v2g' }), log: k.logs.for('v2g'), host: '::1', sdpPort: 0, port: charging, config: { port: 0, autoAuthorize: false } });
      k.lifecycle.add({ name: 'iec61851', start: () => charging.start(), stop: () => charging.stop() });
      k.lifecycle.add({ name: 'v2g', dependsOn: ['iec61851'], start: () => service!.start(), stop: () => service!.stop() });
    },
  });
  const seen: Array<{ topic: string; value: unknown; origin: string }> = [];
  kernel.bus.subscribe('ci/#', (m) => seen.push({ topic: m.topic, value: m.value, origin: m.origin.name }));
  // The charger maker's controller: a separate node on the same virtual CAN bus.
  // (With pluginSimulator, the plugin runs its own — what `secc start --sim --control can` does — and this one stays off the bus.)
  const controller = new SimulatedDcController({
    api: canApiFrom(loadDbc(DEFAULT_DATABASE)),
    transport: VirtualCanBus.named(canBus).endpoint('controller'),
    voltageRampPerS: 4000,
    currentRampPerS: 4000,
    isolationTestMs: 50,
  });
  if (!options.pluginSimulator) await controller.start();
  await kernel.start();
  // The CAN trace on (what the logging plugin publishes when plugins.logging.config.traces.can is true).
  kernel.bus.publish('ci/trace/enabled', { v2g: false, slac: false, mqtt: false, can: true }, { kind: 'kernel', name: 'test' });
  const ev = new SimulatedEv(board);
  try {
    if (options.silenceAt) {
      const at = options.silenceAt;
      let done = false;
      kernel.bus.subscribe('ci/hlc/session/state', (m) => {
        if (!done && (m.value as string) === at) {
          done = true;
          setTimeout(() => controller.silence(), 100);
        }
      });
    }
    const sdpPort = (service as unknown as { sdp: { port: number } }).sdp.port;
    const summary = await runEvSimulation({
      protocol: 'din',
      host: '::1',
      sdpPort,
      battery: { initialSoc: 78, targetSoc: options.targetSoc ?? 80, capacityWh: 200, speed: 1 },
      pilot: ev,
      log: recordingLogger(),
      pollMs: 20,
      loopMs: 20,
    });
    await new Promise((r) => setTimeout(r, 100));
    return { summary, seen, board, kernel, logs, controller };
  } finally {
    ev.unplug();
    await kernel.stop();
    if (!options.pluginSimulator) await controller.stop();
  }
}

const values = (seen: Array<{ topic: string; value: unknown }>, topic: string) => seen.filter((m) => m.topic === topic).map((m) => m.value);

for (const pluginSimulator of [false, true]) {
test(`a DIN 70121 DC session end to end, the charge process controlled over the virtual CAN bus only (simulated controller ${pluginSimulator ? 'run by the plugin, as with --sim --control can' : 'as a separate node'})`, { timeout: 60000 }, async () => {
  const { summary, seen, board, logs } = await session({ pluginSimulator });
  assert.equal(summary.ok, true, `${summary.stop_reason} ${JSON.stringify(summary.sequence)}\n${logs.lines.filter((l) => Number(l.level) >= 40).map((l) => JSON.stringify(l)).join('\n')}`);
  assert.equal(summary.stop_reason, 'target SoC reached');
  const names = withoutRepeats(summary.sequence);
  assert.deepEqual([...new Set(names)], DIN_DC_SEQUENCE);
  // Every controller input reached the stack through the CAN plugin (no other writer of ci/hlc/evse/*
  // but the V2G layer's own session-start resets).
  const evseWriters = new Set(seen.filter((m) => m.topic.startsWith('ci/hlc/evse/')).map((m) => m.origin));
  assert.deepEqual([...evseWriters].sort(), ['can', 'v2g']);
  for (const topic of ['ci/hlc/evse/authorization', 'ci/hlc/evse/isolation_status', 'ci/hlc/evse/max_voltage', 'ci/hlc/evse/present_voltage', 'ci/hlc/evse/present_current']) {
    assert.ok(seen.some((m) => m.topic === topic && m.origin === 'can'), `${topic} written by the CAN plugin`);
  }
  assert.ok(values(seen, 'ci/hlc/evse/authorization').includes('Accepted'));
  assert.ok(values(seen, 'ci/hlc/evse/present_current').some((v) => (v as { value: number; multiplier: number }).value * 10 ** (v as { multiplier: number }).multiplier > 1), 'current flowed');
  // The controller followed the EV's targets, which it only knows from the stack's CAN frames.
  const target = values(seen, 'ci/hlc/ev/target_voltage').at(-1) as { value: number; multiplier: number };
  const present = values(seen, 'ci/hlc/evse/present_voltage').map((v) => (v as { value: number; multiplier: number }).value * 10 ** (v as { multiplier: number }).multiplier);
  assert.ok(Math.max(...present) >= 0.9 * target.value * 10 ** target.multiplier, `present voltage followed the target (max ${Math.max(...present)} V)`);
  assert.equal(values(seen, 'ci/contactor/state').at(-1), 'open');
  assert.ok(values(seen, 'ci/contactor/state').includes('closed'));
  assert.equal(board.contactorIsClosed, false);
  assert.equal((values(seen, 'ci/can/status').at(-1) as CanStatus).errorShutdown, false);
  // Every frame in and out went through traceCan.
  const traced = values(seen, 'ci/trace/can') as Array<{ direction: string; id: number; data: string; iface: string }>;
  assert.ok(traced.some((r) => r.direction === 'tx' && r.id === 0x18ff5000 && r.data.length === 16), 'SECC_Status traced');
  assert.ok(traced.some((r) => r.direction === 'rx' && r.id === 0x18ff5101 && r.data.length === 8), 'EVSE_Present traced');
});
}

test('a controller that goes silent mid-session: error shutdown with contactors open, and a reported error', { timeout: 60000 }, async () => {
  const { summary, seen, board } = await session({ silenceAt: 'charging', targetSoc: 100 });
  assert.equal(summary.ok, false, 'the EV did not reach its target');
  const contactor = values(seen, 'ci/contactor/state');
  assert.ok(contactor.includes('closed'), `contactors closed while charging: ${contactor.join(',')}; ${summary.stop_reason}; ${summary.sequence.join(' ')}; ${values(seen, 'ci/hlc/session/state').join(',')}`);
  assert.equal(contactor.at(-1), 'open');
  assert.equal(board.contactorIsClosed, false);
  assert.ok(values(seen, 'ci/hlc/evse/error_shutdown').includes(true), 'error shutdown requested');
  const shutdownBy = seen.find((m) => m.topic === 'ci/hlc/evse/error_shutdown' && m.value === true)!.origin;
  assert.equal(shutdownBy, 'can');
  const errors = values(seen, 'ci/can/error') as Array<{ code: string; message: string }>;
  assert.ok(errors.some((e) => e.code === 'controller_timeout'), JSON.stringify(errors));
  const states = values(seen, 'ci/hlc/session/state');
  assert.ok(states.includes('charging'));
  assert.ok(!states.slice(states.indexOf('charging')).includes('welding_detection'), `no orderly stop: ${states.join(',')}`);
  // The stack answered the EV's next CurrentDemandReq with FAILED (EVSE_EmergencyShutdown) and ended the session.
  assert.equal(summary.sequence.at(-1), 'CurrentDemandReq:FAILED', summary.sequence.join(' '));
  assert.equal(states[states.indexOf('charging') + 1], 'error', states.join(','));
});
