/**
 * The SocketCAN transport on a real kernel interface (vcan). The machines this project runs on
 * have no CAN support in the kernel at all; then these tests are skipped and say why — they never
 * pass without having run. Everything else is tested on the virtual bus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { SocketCanError, SocketCanTransport, socketCanUnavailableReason, type CanFrame } from '@opensecc/plugin-can';
import { waitFor } from './helpers.js';

/** A vcan interface when the kernel can make one, else why not. */
function makeVcan(name: string): string | undefined {
  const reason = socketCanUnavailableReason();
  if (reason) return reason;
  try {
    execFileSync('ip', ['link', 'add', 'dev', name, 'type', 'vcan'], { stdio: 'pipe' });
    execFileSync('ip', ['link', 'set', 'dev', name, 'up'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot create a vcan interface: ${(error as Error).message.split('\n')[0]}`;
  }
}

const VCAN = 'vcansecc0';
const unavailable = makeVcan(VCAN);
const skip = unavailable ? `SocketCAN not testable here: ${unavailable}` : false;
if (skip) process.stdout.write(`# SKIP SocketCAN tests: ${unavailable}\n`);

test('without kernel CAN support, opening SocketCAN fails with a clear error naming the interface', { skip: unavailable ? false : 'this kernel has CAN support' }, async () => {
  const transport = new SocketCanTransport({ iface: 'can0', bitrate: 1_000_000 });
  await assert.rejects(transport.open(), (error: unknown) => error instanceof SocketCanError && /SocketCAN can0: the kernel has no CAN support/.test((error as Error).message));
});

test('SocketCAN transport: 29-bit frames out and in over a vcan interface', { skip }, async () => {
  const a = new SocketCanTransport({ iface: VCAN, bitrate: 1_000_000 });
  const b = new SocketCanTransport({ iface: VCAN, bitrate: 1_000_000 });
  const got: CanFrame[] = [];
  b.onFrame((f) => got.push(f));
  await a.open();
  await b.open();
  try {
    a.send({ id: 0x18ff5100, extended: true, data: Uint8Array.from([1, 2, 3, 4]) });
    const frame = await waitFor('frame on vcan', () => got[0]);
    assert.equal(frame.id, 0x18ff5100);
    assert.equal(frame.extended, true);
    assert.deepEqual([...frame.data], [1, 2, 3, 4]);
  } finally {
    await a.close();
    await b.close();
    execFileSync('ip', ['link', 'del', 'dev', VCAN]);
  }
});
