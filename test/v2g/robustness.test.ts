/**
 * Misbehaving peers against the running V2G service: each gets the standard's answer or a closed
 * connection and a log line, and the service goes on serving the next EV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { encode } from '@opensecc/exi-codec';
import { appProtocolRequest, encodeMessage, HLC, PAYLOAD_TYPE, V2gtpClient } from '@opensecc/core/v2g/index';
import { hasLine } from '#support/log.js';
import { ManualEvse } from '#support/evse.js';
import { startSecc } from './helpers/secc.js';

const handshake = () => encode('apphand', appProtocolRequest(['din70121']));
const din = (name: string, body: object, sid = '0000000000000000') => encode('din', { V2G_Message: { Header: { SessionID: sid }, Body: { [name]: body } } });

/** A fresh EV gets through the handshake and SessionSetup: the service still works. */
async function stillServes(port: number): Promise<void> {
  const client = await V2gtpClient.connect({ host: '::1', port });
  await client.request(handshake(), 1000);
  const res = await client.request(din('SessionSetupReq', { EVCCID: '010203040506' }), 1000);
  assert.ok(res.payload.length > 0);
  client.close();
  await new Promise((r) => setTimeout(r, 20));
}

test('undecodable EXI, a failed app handshake and a non-request document close the connection with a log line', async () => {
  const { service, log } = await startSecc({ evse: new ManualEvse() });
  try {
    const port = service.tcpPort!;
    const garbage = await V2gtpClient.connect({ host: '::1', port });
    await assert.rejects(garbage.request(Buffer.from('ffffffffffff', 'hex'), 1000), /closed by the SECC/);
    assert.ok(hasLine(log.lines, 'warn', /supportedAppProtocolReq not understood/));
    await stillServes(port);

    const iso20only = await V2gtpClient.connect({ host: '::1', port });
    const res = await iso20only.request(encode('apphand', appProtocolRequest(['iso15118-20-dc'])), 1000);
    assert.ok(res.payload.length > 0); // Failed_NoNegotiation is answered, then the connection closes
    await assert.rejects(iso20only.receive(1000), /closed by the SECC/);
    assert.ok(hasLine(log.lines, 'warn', /app protocol negotiation failed/));
    await stillServes(port);

    const badDin = await V2gtpClient.connect({ host: '::1', port });
    await badDin.request(handshake(), 1000);
    await assert.rejects(badDin.request(Buffer.from('80ffffffff', 'hex'), 1000), /closed by the SECC/);
    assert.ok(hasLine(log.lines, 'warn', /DIN 70121 message not understood/));
    await stillServes(port);
  } finally {
    await service.stop();
  }
});

test('a second connection during a session is refused and the session goes on', async () => {
  const { service, log, bus } = await startSecc({ evse: new ManualEvse() });
  try {
    const port = service.tcpPort!;
    const first = await V2gtpClient.connect({ host: '::1', port });
    await first.request(handshake(), 1000);
    await first.request(din('SessionSetupReq', { EVCCID: '010203040506' }), 1000);
    const sessionId = bus.get<string>(HLC.session.id)!;
    const intruder = connect({ host: '::1', port });
    await new Promise<void>((resolve) => intruder.on('close', () => resolve()).on('error', () => {}));
    assert.ok(hasLine(log.lines, 'warn', /second V2G connection refused/));
    const res = await first.request(din('ServiceDiscoveryReq', {}, sessionId), 1000);
    assert.ok(res.payload.length > 0);
    assert.equal(bus.get(HLC.session.state), 'service_discovery');
    first.close();
  } finally {
    await service.stop();
  }
});

test('a header with a 4 GiB length mid-session ends that session safely; the next EV is served', async () => {
  const { service, log, bus } = await startSecc({ evse: new ManualEvse() });
  try {
    const port = service.tcpPort!;
    const client = await V2gtpClient.connect({ host: '::1', port });
    await client.request(handshake(), 1000);
    await client.request(din('SessionSetupReq', { EVCCID: '010203040506' }), 1000);
    client.socket.write(Buffer.from('01fe8001ffffffff', 'hex'));
    await assert.rejects(client.receive(1000), /closed|no response/);
    assert.ok(hasLine(log.lines, 'warn', /exceeds the maximum/));
    await new Promise((r) => setTimeout(r, 20));
    assert.match(String(bus.get(HLC.session.stopReason)), /protocol violation: V2GTP payload length 4294967295/);
    await stillServes(port);
    // an SDP request sent over TCP (a wrong payload type) is discarded, the connection stays
    const other = await V2gtpClient.connect({ host: '::1', port });
    other.socket.write(encodeMessage(PAYLOAD_TYPE.sdpRequest, Uint8Array.of(0x10, 0x00)));
    const res = await other.request(handshake(), 1000);
    assert.ok(res.payload.length > 0);
    other.close();
  } finally {
    await service.stop();
  }
});
