/**
 * Replays what real EVs sent (Hyundai Ioniq, Tesla Model Y, and pyPLC acting as EV against a Compleo
 * charger) into our EVSE over the in-memory link, and checks that it answers each message with a
 * response of the right type and fields, as the real EVSE in the capture did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySegment, SlacEvse, decodeFrame, nidFromNmk, type DecodedFrame } from '@opensecc/core/slac/index';
import { fixtureNames, loadFixture } from './helpers/fixtures.js';
import { delay, recordingLogger } from './helpers/test-kit.js';

/** Which answers the EVSE gives and which of their fields must equal the captured EVSE's. */
const COMPARED_FIELDS: Record<string, string[]> = {
  'CM_SLAC_PARM.CNF': ['mSoundTarget', 'numSounds', 'timeOut', 'respType', 'forwardingSta', 'applicationType', 'securityType', 'runId'],
  'CM_ATTEN_CHAR.IND': ['applicationType', 'securityType', 'sourceAddress', 'runId', 'numSounds'],
  'CM_SLAC_MATCH.CNF': ['applicationType', 'securityType', 'mvfLength', 'pevId', 'pevMac', 'evseMac', 'runId'],
};

async function waitUntil(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

for (const name of fixtureNames()) {
  test(`replayed ${name} EV traffic is answered like the captured EVSE did`, async () => {
    const captured = loadFixture(name).frames.map((f) => decodeFrame(f)).flatMap((r) => (r.ok ? [r.frame] : []));
    const parmReq = captured.find((f) => f.name === 'CM_SLAC_PARM.REQ')!;
    const evMac = parmReq.src;
    const evseHost = captured.find((f) => f.name === 'CM_SLAC_PARM.CNF' && f.dst === evMac)!.src;
    const lastMatchReq = captured.findIndex((f) => f.name === 'CM_SLAC_MATCH.REQ');
    assert.ok(lastMatchReq > 0, 'the capture has a CM_SLAC_MATCH.REQ');

    const segment = new MemorySegment();
    const answers: DecodedFrame[] = [];
    segment.tap((frame, from) => {
      const r = decodeFrame(frame);
      if (from === 'evse' && r.ok) answers.push(r.frame);
    });
    const { log } = recordingLogger();
    const evse = new SlacEvse({ link: segment.attach(evseHost, 'evse'), log });
    evse.start();
    try {
      // Feed the EV's frames (and its modem's attenuation profiles) in capture order. Where the captured
      // EVSE answered, wait for our EVSE's answer of that type before going on, as the EV did.
      for (const frame of captured.slice(0, lastMatchReq + 1)) {
        if (frame.src === evseHost) {
          if (COMPARED_FIELDS[frame.name]) await waitUntil(() => answers.some((a) => a.name === frame.name), `our ${frame.name}`);
          continue;
        }
        if (frame.src === evMac || frame.name === 'CM_ATTEN_PROFILE.IND') {
          segment.inject(frame.raw, 'replay');
          await delay(2);
        }
      }
      await waitUntil(() => answers.some((a) => a.name === 'CM_SLAC_MATCH.CNF'), 'our CM_SLAC_MATCH.CNF');
    } finally {
      evse.stop();
    }

    for (const [answerName, fields] of Object.entries(COMPARED_FIELDS)) {
      const ours = answers.find((a) => a.name === answerName)!;
      const theirs = captured.find((f) => f.name === answerName && f.src === evseHost)!;
      assert.ok(ours, `our EVSE sent ${answerName}`);
      assert.equal(ours.dst, evMac, `${answerName} goes to the EV`);
      assert.equal(ours.raw.length >= 60, true);
      for (const field of fields) assert.deepEqual(ours.fields[field], theirs.fields[field], `${answerName}.${field}`);
    }
    const atten = answers.find((a) => a.name === 'CM_ATTEN_CHAR.IND')!;
    assert.ok((atten.fields.numGroups as number) > 0 && (atten.fields.numGroups as number) <= 58);
    const match = answers.find((a) => a.name === 'CM_SLAC_MATCH.CNF')!;
    assert.equal(match.fields.runId, parmReq.fields.runId, 'RunID echoed exactly');
    assert.equal(match.fields.nid, nidFromNmk(Buffer.from(match.fields.nmk as string, 'hex')).toString('hex'));
    const setKey = answers.find((a) => a.name === 'CM_SET_KEY.REQ')!;
    assert.equal(setKey.fields.newKey, match.fields.nmk, 'the modem got the NMK the EV got');
    // Nothing else: the EV's requests to its own modem (CM_SET_KEY, CM_GET_KEY, VS_*) went unanswered.
    const names = new Set(answers.map((a) => a.name));
    assert.deepEqual([...names].sort(), ['CM_ATTEN_CHAR.IND', 'CM_SET_KEY.REQ', 'CM_SLAC_MATCH.CNF', 'CM_SLAC_PARM.CNF']);
    assert.equal(evse.lastResult?.result, 'matched');
  });
}
