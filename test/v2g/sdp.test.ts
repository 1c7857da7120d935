import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import {
  answerFor,
  bytesToIpv6,
  decodeSdpRequest,
  decodeSdpResponse,
  discoverSecc,
  encodeMessage,
  encodeSdpRequest,
  encodeSdpResponse,
  ipv6ToBytes,
  PAYLOAD_TYPE,
  SdpMessageError,
  SdpServer,
} from '@opensecc/core/v2g/index';
import { hasLine, recordingLogger } from '#support/log.js';

test('SDP messages: request and response round trip, byte layout as ISO 15118-2 Table 15/16', () => {
  assert.equal(encodeSdpRequest({ security: 'none', transport: 'tcp' }).toString('hex'), '01fe9000000000021000');
  assert.deepEqual(decodeSdpRequest(Buffer.from('01fe9000000000020000', 'hex')), { security: 'tls', transport: 'tcp' });
  const response = { address: 'fe80::201:87ff:fe05:1234', port: 50123, security: 'none' as const, transport: 'tcp' as const };
  const bytes = encodeSdpResponse(response);
  assert.equal(bytes.toString('hex'), '01fe900100000014' + 'fe800000000000000201 87fffe051234'.replace(/ /g, '') + 'c3cb' + '10' + '00');
  assert.deepEqual(decodeSdpResponse(bytes), response);
});

test('SDP messages: malformed requests are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['01fe90000000000210', /datagram of 9 bytes/],
    ['01ff9000000000021000', /protocol version/],
    ['01fe8001000000021000', /payload type 0x8001/],
    ['01fe9000000000031000ff', /payload length 3 exceeds|payload length 3/],
    ['01fe9000000000022000', /unknown SDP security value 0x20/],
    ['01fe9000000000021020', /unknown SDP transport protocol value 0x20/],
    ['01fe900000', /shorter than a V2GTP header/],
  ];
  for (const [hex, reason] of cases) assert.throws(() => decodeSdpRequest(Buffer.from(hex, 'hex')), (e: unknown) => e instanceof SdpMessageError && reason.test(e.message), hex);
});

test('IPv6 text/bytes conversion', () => {
  for (const address of ['::1', 'fe80::1', 'fe80::201:87ff:fe05:1234', '2001:db8::8:800:200c:417a', '1:2:3:4:5:6:7:8', '::']) {
    assert.equal(bytesToIpv6(ipv6ToBytes(address)), address);
  }
  assert.equal(ipv6ToBytes('fe80::1%eth1').toString('hex'), 'fe800000000000000000000000000001');
  assert.throws(() => ipv6ToBytes('fe80::1::2'), SdpMessageError);
});

test('SDP answer: the security the EV asks for when offered, else what the SECC has; UDP is not offered', () => {
  const both = { address: '::1', tcpPort: 50000, tlsPort: 50001 };
  assert.equal(answerFor({ security: 'tls', transport: 'tcp' }, both)?.port, 50001);
  assert.equal(answerFor({ security: 'none', transport: 'tcp' }, both)?.port, 50000);
  assert.deepEqual(answerFor({ security: 'tls', transport: 'tcp' }, { address: '::1', tcpPort: 50000 }), { address: '::1', port: 50000, security: 'none', transport: 'tcp' });
  assert.equal(answerFor({ security: 'none', transport: 'udp' }, both), undefined);
});

test('SDP server over UDP on ::1: answers from its own port, ignores malformed requests with a log line', async () => {
  const log = recordingLogger();
  // port 0: a free port, so parallel test runs do not collide (the daemon uses 15118)
  const server = new SdpServer({ bindAddress: '::1', port: 0, log, offer: () => ({ address: 'fe80::1', tcpPort: 51000 }) });
  const probe = createSocket('udp6');
  await new Promise<void>((r) => probe.bind(0, '::1', () => r()));
  await server.start();
  const port = server.port;
  try {
    const got: Array<{ data: Buffer; from: number }> = [];
    probe.on('message', (data, remote) => got.push({ data, from: remote.port }));
    probe.send(Buffer.from('hello'), port, '::1');
    probe.send(encodeMessage(PAYLOAD_TYPE.sdpRequest, Uint8Array.of(0x10)), port, '::1');
    probe.send(encodeSdpRequest({ security: 'none', transport: 'tcp' }), port, '::1');
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.from, port);
    assert.deepEqual(decodeSdpResponse(got[0]!.data), { address: 'fe80::1', port: 51000, security: 'none', transport: 'tcp' });
    assert.deepEqual(server.stats, { answered: 1, ignored: 2 });
    assert.ok(hasLine(log.lines, 'warn', /malformed SDP request ignored/));
    // the EVCC client finds it
    const found = await discoverSecc({ target: '::1', port, request: { security: 'none', transport: 'tcp' }, attempts: 3 });
    assert.equal(found.port, 51000);
  } finally {
    probe.close();
    await server.stop();
  }
});

