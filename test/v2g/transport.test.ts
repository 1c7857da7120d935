import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import {
  encodeMessage,
  messageHex,
  PAYLOAD_TYPE,
  serverTlsOptions,
  TlsConfigError,
  V2gtpClient,
  V2gtpDecoder,
  V2gtpServer,
  type V2gtpConnection,
} from '@opensecc/core/v2g/index';
import { hasLine, recordingLogger } from '#support/log.js';
import { makeTestPki } from '#support/certs.js';

const EXI = new Set([PAYLOAD_TYPE.exi]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('decoder: header and payload split at every position, and merged messages', () => {
  const a = encodeMessage(PAYLOAD_TYPE.exi, Buffer.from('8098021050908c0c0c0c0c51', 'hex'));
  const b = encodeMessage(PAYLOAD_TYPE.exi, Buffer.from([1, 2, 3]));
  const stream = Buffer.concat([a, b]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new V2gtpDecoder({ accepted: EXI, maxPayloadLength: 64 });
    const out = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    assert.deepEqual(
      out.map((o) => (o.kind === 'message' ? o.message.payload.toString('hex') : o.kind)),
      ['8098021050908c0c0c0c0c51', '010203'],
      `cut at ${cut}`,
    );
    assert.equal(decoder.partial, false);
  }
});

test('decoder: byte-by-byte feeding of random messages gives them back unchanged, never holding more than max + header', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }), (payloads) => {
      const decoder = new V2gtpDecoder({ accepted: EXI, maxPayloadLength: 40 });
      const stream = Buffer.concat(payloads.map((p) => encodeMessage(PAYLOAD_TYPE.exi, p)));
      const got: string[] = [];
      for (const byte of stream) {
        for (const o of decoder.push(Uint8Array.of(byte))) if (o.kind === 'message') got.push(o.message.payload.toString('hex'));
        assert.ok(decoder.buffered <= 48);
      }
      assert.deepEqual(got, payloads.map((p) => Buffer.from(p).toString('hex')));
    }),
  );
});

test('decoder: a zero-length payload is a message', () => {
  const decoder = new V2gtpDecoder({ accepted: EXI, maxPayloadLength: 8 });
  const out = decoder.push(encodeMessage(PAYLOAD_TYPE.exi, new Uint8Array(0)));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.kind, 'message');
});

test('decoder: an unaccepted payload type within the limit is skipped and the stream stays in sync', () => {
  const decoder = new V2gtpDecoder({ accepted: EXI, maxPayloadLength: 16 });
  const out = decoder.push(Buffer.concat([encodeMessage(PAYLOAD_TYPE.sdpRequest, Uint8Array.of(0x10, 0x00)), encodeMessage(PAYLOAD_TYPE.exi, Uint8Array.of(7))]));
  assert.deepEqual(out.map((o) => o.kind), ['discarded', 'message']);
  assert.equal(out[0]!.kind === 'discarded' && out[0]!.error.problem, 'payload-type');
});

test('decoder: wrong version pattern and a 4 GiB length are fatal, and nothing after them is decoded', () => {
  const garbage = new V2gtpDecoder({ accepted: EXI, maxPayloadLength: 16 });
  const g = garbage.push(Buffer.from('GET / HTTP/1.1\r\n'));
  assert.equal(g.length, 1);
  assert.equal(g[0]!.kind === 'fatal' && g[0]!.error.problem, 'version');
  assert.deepEqual(garbage.push(encodeMessage(PAYLOAD_TYPE.exi, Uint8Array.of(1))), []);

  const huge = new V2gtpDecoder({ accepted: EXI, maxPayloadLength: 16 });
  const h = huge.push(Buffer.from('01fe8001ffffffff', 'hex'));
  assert.equal(h[0]!.kind === 'fatal' && h[0]!.error.problem, 'length');
  assert.match(h[0]!.kind === 'fatal' ? h[0]!.error.message : '', /4294967295 exceeds the maximum of 16/);
  assert.equal(huge.buffered, 0);
});

/** A server whose handler echoes every payload back; returns it with its log. */
async function echoServer(options: { maxConnections?: number; tls?: ReturnType<typeof serverTlsOptions> } = {}) {
  const log = recordingLogger();
  const connections: V2gtpConnection[] = [];
  const server = new V2gtpServer({
    host: '::1',
    port: 0,
    log,
    maxPayloadLength: 64,
    ...options,
    onConnection: (connection) => {
      connections.push(connection);
      connection.arm('test_timeout', 300);
      connection.onRequest((message, conn) => {
        conn.send(PAYLOAD_TYPE.exi, message.payload);
        conn.arm('test_timeout', 300);
      });
    },
  });
  const port = await server.listen();
  return { server, port, log, connections };
}

function rawClient(port: number): Promise<Socket & { received: Buffer[]; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '::1', port }, () => resolve(s));
    const s = socket as Socket & { received: Buffer[]; ended: Promise<void> };
    s.received = [];
    s.ended = new Promise((r) => socket.on('close', () => r()));
    socket.on('data', (d) => s.received.push(d));
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

test('server: a request written one byte at a time is one message; the response is one write', async () => {
  const { server, port } = await echoServer();
  try {
    const client = await rawClient(port);
    const frame = encodeMessage(PAYLOAD_TYPE.exi, Buffer.from('hello v2g'));
    for (const byte of frame) {
      client.write(Uint8Array.of(byte));
      await sleep(1);
    }
    while (Buffer.concat(client.received).length < frame.length) await sleep(5);
    assert.deepEqual(Buffer.concat(client.received), frame);
    client.destroy();
  } finally {
    await server.close();
  }
});

test('server: each response goes out with exactly one socket write', async () => {
  const log = recordingLogger();
  let writes = 0;
  const server = new V2gtpServer({
    host: '::1',
    port: 0,
    log,
    onConnection: (connection) => {
      const socket = (connection as unknown as { socket: Socket }).socket;
      const write = socket.write.bind(socket);
      socket.write = ((...args: Parameters<Socket['write']>) => {
        writes++;
        return write(...args);
      }) as Socket['write'];
      connection.onRequest((m, c) => void c.send(PAYLOAD_TYPE.exi, Buffer.concat([m.payload, Buffer.alloc(1000)])));
    },
  });
  const port = await server.listen();
  try {
    const client = await V2gtpClient.connect({ host: '::1', port });
    for (let i = 0; i < 3; i++) await client.request(Uint8Array.of(i), 1000);
    assert.equal(writes, 3);
    client.close();
  } finally {
    await server.close();
  }
});

test('server: garbage bytes close that connection with a log line; the server keeps serving', async () => {
  const { server, port, log } = await echoServer();
  try {
    const bad = await rawClient(port);
    bad.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await bad.ended;
    assert.ok(hasLine(log.lines, 'warn', /V2GTP header invalid/));
    const good = await V2gtpClient.connect({ host: '::1', port });
    const res = await good.request(Uint8Array.of(42), 1000);
    assert.deepEqual([...res.payload], [42]);
    good.close();
  } finally {
    await server.close();
  }
});

test('server: a 4 GiB payload length closes the connection without buffering', async () => {
  const { server, port, log, connections } = await echoServer();
  try {
    const client = await rawClient(port);
    client.write(Buffer.from('01fe8001ffffffff', 'hex'));
    client.write(Buffer.alloc(1000, 0xaa));
    await client.ended;
    assert.ok(hasLine(log.lines, 'warn', /4294967295 exceeds the maximum/));
    assert.equal(connections[0]!.buffered, 0);
  } finally {
    await server.close();
  }
});

test('server: a wrong payload type is discarded with a log line and the connection goes on', async () => {
  const { server, port, log } = await echoServer();
  try {
    const client = await rawClient(port);
    client.write(Buffer.concat([encodeMessage(0x1234, Buffer.from('xx')), encodeMessage(PAYLOAD_TYPE.exi, Uint8Array.of(9))]));
    while (client.received.length === 0) await sleep(5);
    assert.deepEqual(Buffer.concat(client.received), encodeMessage(PAYLOAD_TYPE.exi, Uint8Array.of(9)));
    assert.ok(hasLine(log.lines, 'warn', /payload type 0x1234 is not accepted/));
    client.destroy();
  } finally {
    await server.close();
  }
});

test('server: half a header and then silence ends with the timer', async () => {
  const { server, port, log, connections } = await echoServer();
  try {
    const client = await rawClient(port);
    client.write(Buffer.from('01fe80', 'hex'));
    await client.ended;
    assert.deepEqual(connections[0]!.closeReason, { kind: 'timeout', timer: 'test_timeout' });
    assert.ok(hasLine(log.lines, 'warn', /test_timeout expired/));
  } finally {
    await server.close();
  }
});

test('server: a second connection during a session is refused; the first is unaffected', async () => {
  const { server, port, log } = await echoServer({ maxConnections: 1 });
  try {
    const first = await V2gtpClient.connect({ host: '::1', port });
    await first.request(Uint8Array.of(1), 1000);
    const second = await rawClient(port);
    await second.ended;
    assert.equal(server.rejectedConnections, 1);
    assert.ok(hasLine(log.lines, 'warn', /second V2G connection refused/));
    const res = await first.request(Uint8Array.of(2), 1000);
    assert.deepEqual([...res.payload], [2]);
    first.close();
  } finally {
    await server.close();
  }
});

test('TLS 1.2 with the ISO 15118-2 cipher suite; a plain TCP client or TLS 1.3 gets no session', async () => {
  const pki = makeTestPki();
  const { server, port, log } = await echoServer({ tls: serverTlsOptions({ certFile: pki.certFile, keyFile: pki.keyFile }) });
  try {
    const client = await V2gtpClient.connect({ host: '::1', port, tls: { ca: pki.ca } });
    assert.equal(client.cipher, 'ECDHE-ECDSA-AES128-SHA256');
    assert.equal((client.socket as import('node:tls').TLSSocket).getProtocol(), 'TLSv1.2');
    const res = await client.request(Uint8Array.of(5), 1000);
    assert.deepEqual([...res.payload], [5]);
    client.close();

    const tls13 = tlsConnect({ host: '::1', port, minVersion: 'TLSv1.3', rejectUnauthorized: false });
    await new Promise<void>((resolve) => {
      tls13.on('error', () => resolve());
      tls13.on('secureConnect', () => assert.fail('TLS 1.3 must not be accepted'));
    });

    const plain = await rawClient(port);
    plain.write(encodeMessage(PAYLOAD_TYPE.exi, Uint8Array.of(1)));
    await plain.ended;
    await sleep(20);
    assert.ok(hasLine(log.lines, 'warn', /TLS handshake failed/));
  } finally {
    await server.close();
  }
});

test('TLS config: a missing key file is named in the error', () => {
  assert.throws(() => serverTlsOptions({ certFile: '/nonexistent/secc.pem', keyFile: '/nonexistent/secc.key' }), (error: unknown) => {
    assert.ok(error instanceof TlsConfigError);
    assert.match(error.message, /v2g\.tls\.certFile \(\/nonexistent\/secc\.pem\): cannot read: ENOENT/);
    return true;
  });
});

test('messageHex is the hex of the V2GTP message encodeMessage builds, for any payload type and payload (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 600 }), fc.nat(16), (payloadType, bytes, offset) => {
      // A view into a larger buffer, as the decoder and the encoder hand payloads out.
      const backing = new Uint8Array(offset + bytes.length + 5);
      backing.set(bytes, offset);
      const payload = backing.subarray(offset, offset + bytes.length);
      assert.equal(messageHex(payloadType, payload), encodeMessage(payloadType, payload).toString('hex'));
    }),
    { numRuns: 500 },
  );
});
