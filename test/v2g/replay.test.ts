/**
 * The request streams of real cars (from ../shared/captures, and the fixture derived from them),
 * replayed into the SECC over TCP with the SessionID rewritten: every request gets a response of
 * the expected type with an OK response code. The customer's side (authorization, EVSEProcessing,
 * present voltage) follows what the charger in the capture did, so the car's polling matches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { decode, encode } from '@opensecc/exi-codec';
import { V2gtpClient } from '@opensecc/core/v2g/index';
import { CAPTURES_DIR, loadCapture } from './helpers/captures.js';
import { ManualEvse } from '#support/evse.js';
import { startSecc } from './helpers/secc.js';

interface Step {
  readonly request: string;
  readonly hex: string;
  readonly response: string | null;
  readonly processing: string | null;
}

async function replay(steps: readonly Step[]): Promise<string[]> {
  const evse = new ManualEvse();
  const { service, log } = await startSecc({ evse });
  const client = await V2gtpClient.connect({ host: '::1', port: service.tcpPort! });
  const seen: string[] = [];
  let sessionId: string | undefined;
  try {
    for (const step of steps) {
      // The customer's side does what the captured charger did.
      if (step.request === 'ContractAuthenticationReq') evse.set({ authorization: step.processing === 'Ongoing' ? 'Ongoing' : 'Accepted' });
      if (step.request === 'ChargeParameterDiscoveryReq' || step.request === 'CableCheckReq') evse.set({ processing: step.processing === 'Ongoing' ? 'Ongoing' : 'Finished' });
      let bytes = Buffer.from(step.hex, 'hex');
      const schema = step.request === 'supportedAppProtocolReq' ? 'apphand' : 'din';
      if (schema === 'din' && sessionId) {
        const document = decode('din', bytes) as { V2G_Message: { Header: { SessionID: string } } };
        document.V2G_Message.Header.SessionID = sessionId;
        bytes = Buffer.from(encode('din', document));
      }
      const response = decode(schema, (await client.request(bytes, 3000)).payload);
      const [name, body] = schema === 'apphand' ? Object.entries(response)[0]! : Object.entries((response as { V2G_Message: { Body: object } }).V2G_Message.Body)[0]!;
      const code = String((body as { ResponseCode: string }).ResponseCode);
      seen.push(`${name}:${code}`);
      assert.equal(name, step.response ?? step.request.replace(/Req$/, 'Res'), `response to ${step.request}`);
      assert.match(code, /^OK/, `${step.request} answered ${code}`);
      if (step.processing) assert.equal((body as { EVSEProcessing: string }).EVSEProcessing, step.processing, `${step.request} EVSEProcessing`);
      if (name === 'SessionSetupRes') sessionId = (response as { V2G_Message: { Header: { SessionID: string } } }).V2G_Message.Header.SessionID;
    }
  } finally {
    client.close();
    await service.stop();
  }
  // Every EV value reached the bus: none was refused by the topic registry's schemas.
  assert.deepEqual(log.lines.filter((l) => l.level === 'error'), []);
  return seen;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/captured-sessions.json', import.meta.url), 'utf8')) as { sessions: Array<{ source: string; exchanges: Step[] }> };

for (const session of fixture.sessions) {
  test(`replay (committed fixture) ${session.source}`, async () => {
    const seen = await replay(session.exchanges);
    assert.equal(seen.length, session.exchanges.length);
  });
}

for (const file of ['2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng.decoded.txt', '2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng.decoded.txt']) {
  const present = existsSync(new URL(file, CAPTURES_DIR));
  test(`replay (full capture) ${file}`, { skip: present ? false : 'needs ../shared/captures' }, async () => {
    const steps = loadCapture(file).map((e) => {
      const body = e.response?.schema === 'din' ? ((e.response.document.V2G_Message as { Body: Record<string, Record<string, unknown>> }).Body[e.response.name] ?? {}) : {};
      return { request: e.request.name, hex: e.request.hex, response: e.response?.name ?? null, processing: typeof body.EVSEProcessing === 'string' ? body.EVSEProcessing : null };
    });
    const seen = await replay(steps);
    assert.equal(seen.length, steps.length);
  });
}
