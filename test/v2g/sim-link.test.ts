/**
 * The simulated PLC link + control pilot between daemon and EV simulator over a real Unix socket:
 * the EV's circuit reaches the simulated board, the board's PWM reaches the EV (S2 closes only
 * under PWM), frames pass both ways, a second simulator is refused, leaving unplugs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { SimulatedBoard } from '@opensecc/core/hal/index';
import { SimLinkClient, SimLinkHost } from '@opensecc/core/sim/link';
import { hasLine, recordingLogger } from '#support/log.js';

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), what);
};

test('simulated link: CP both ways, frames both ways, one EV at a time, unplug on leave', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'sim-link-')), 'sim-link.sock');
  const board = new SimulatedBoard();
  await board.start();
  const log = recordingLogger();
  const host = new SimLinkHost({ path, board, log });
  await host.start();
  const ev = await SimLinkClient.connect(path);
  try {
    ev.plugIn();
    await until(() => board.readCp().state === 'B', 'plugged in: B');
    assert.equal(board.readPp().maxCurrentA, 32);
    ev.requestPower();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(board.readCp().state, 'B', 'no PWM offered: S2 stays open');
    board.setCp({ kind: 'pwm', dutyPercent: 5, frequencyHz: 1000 });
    await until(() => board.readCp().state === 'C', 'PWM offered: the EV closes S2 (C)');
    assert.deepEqual(ev.cpOutput, { kind: 'pwm', dutyPercent: 5, frequencyHz: 1000 });

    const atHost: Buffer[] = [];
    const atEv: Buffer[] = [];
    host.slacLink.onFrame((f) => atHost.push(f));
    ev.slacLink.onFrame((f) => atEv.push(f));
    ev.slacLink.send(Buffer.from('ffffffffffff02005e0a0b0c88e1', 'hex'));
    host.slacLink.send(Buffer.from('02005e0a0b0c02005e00000188e1', 'hex'));
    await until(() => atHost.length === 1 && atEv.length === 1, 'one frame each way');
    assert.equal(atHost[0]!.length, 60, 'padded to the Ethernet minimum');

    const second = connect(path);
    await new Promise<void>((resolve) => second.on('close', () => resolve()).on('error', () => {}));
    assert.ok(hasLine(log.lines, 'warn', /second EV simulator/));

    ev.close();
    await until(() => board.readCp().state === 'A', 'simulator gone: unplugged (A)');
  } finally {
    await host.stop();
    await board.stop();
  }
});
