/**
 * One SLAC peer in its own process, for the network namespace test: it must run inside the namespace
 * (`ip netns exec NS node netns-peer.js ...`) because a raw socket binds to the namespace it is opened in.
 *
 *   node netns-peer.js evse IFACE '{"timers":{...}}'
 *   node netns-peer.js ev IFACE '{"timers":{...},"faults":{...}}'
 *
 * Prints {"ready":true,"mac":...} once the socket is open, starts on a line on stdin, then prints one JSON
 * line with the outcome.
 */
import {
  SimulatedControlPilot,
  SlacEv,
  SlacEvse,
  openRawLink,
  type SlacEvseState,
  type SlacMatchReport,
} from '@opensecc/core/slac/index';
import { recordingLogger } from './test-kit.js';

const [role, iface, json] = process.argv.slice(2);
const config = JSON.parse(json ?? '{}') as { timers?: Record<string, number>; faults?: Record<string, unknown>; holdMs?: number };
const out = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n');

async function main(): Promise<void> {
  const { log, records } = recordingLogger();
  const link = await openRawLink(iface!);
  let minFrame = Infinity;
  let frames = 0;
  let ownFrames = 0;
  const ownMac = Buffer.from(link.mac.replace(/:/g, ''), 'hex');
  link.onFrame((frame) => {
    frames++;
    minFrame = Math.min(minFrame, frame.length);
    if (frame.subarray(6, 12).equals(ownMac)) ownFrames++;
  });
  out({ ready: true, mac: link.mac });
  // Start only when told: both processes are up by then, so start-up time never eats into the timers.
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdin.pause();
  if (role === 'evse') {
    const cp = new SimulatedControlPilot('B');
    const evse = new SlacEvse({ link, log, controlPilot: cp, timers: config.timers });
    const states: SlacEvseState[] = [];
    evse.on('state', (s) => states.push(s));
    const report = await new Promise<SlacMatchReport>((resolve) => {
      evse.on('result', resolve);
      evse.start();
    });
    // Stay a moment so a repeated request would still be answered.
    await new Promise((r) => setTimeout(r, config.holdMs ?? 100));
    const seen = [...states]; // stop() adds 'idle'
    evse.stop();
    link.close();
    out({ role, report, states: seen, ownFramesReceived: ownFrames, nid: report.nid, cpFailures: cp.failures, framesReceived: frames, minFrameLength: frames ? minFrame : null, dropped: evse.droppedFrames, warnings: records.filter((r) => r.level >= 40).map((r) => r.msg) });
  } else {
    const ev = new SlacEv({ link, log, timers: config.timers, faults: config.faults as never });
    const result = await ev.match();
    link.close();
    out({ role, result, ownFramesReceived: ownFrames, framesReceived: frames, minFrameLength: frames ? minFrame : null });
  }
}

main().catch((error: Error) => {
  out({ role, error: error.message, code: (error as { code?: string }).code });
  process.exitCode = 1;
});
