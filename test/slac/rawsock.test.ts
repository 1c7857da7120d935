/** The raw socket transport on real interfaces of this machine. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isAvailable } from '@opensecc/rawsock';
import { SlacLinkError, decodeFrame, encodeFrame, openRawLink } from '@opensecc/core/slac/index';

const skip = isAvailable() ? false : 'the @opensecc/rawsock addon is not built (npm rebuild @opensecc/rawsock)';

test('opening a raw socket on a missing interface fails with a clear error', { skip }, async () => {
  await assert.rejects(openRawLink('nosuchif9'), (error: unknown) => {
    assert.ok(error instanceof SlacLinkError);
    assert.equal(error.code, 'ENODEV');
    assert.equal(error.iface, 'nosuchif9');
    assert.match(error.message, /^cannot open raw socket on nosuchif9: No such device \(ENODEV\);.*CAP_NET_RAW/);
    return true;
  });
});

test('a short frame is padded to 60 bytes on send', { skip }, async (t: TestContext) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root or CAP_NET_RAW for raw sockets');
    return;
  }
  // Loopback delivers what one socket sends to the other sockets bound to it, unpadded: ideal to see padding.
  const sender = await openRawLink('lo');
  const receiver = await openRawLink('lo');
  try {
    const received = new Promise<Buffer>((resolve) => receiver.onFrame(resolve));
    const short = encodeFrame('CM_SLAC_PARM.REQ', { applicationType: 0, securityType: 0, runId: 'a1a2a3a4a5a6a7a8' }, { dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:0e' }, { pad: false });
    assert.equal(short.length, 29);
    sender.send(short);
    const frame = await received;
    assert.equal(frame.length, 60);
    const decoded = decodeFrame(frame);
    assert.ok(decoded.ok);
    assert.equal(decoded.frame.fields.runId, 'a1a2a3a4a5a6a7a8');
  } finally {
    sender.close();
    receiver.close();
  }
});

test('SlacEvse.open on a missing interface rejects with the socket error', { skip }, async () => {
  const { SlacEvse } = await import('@opensecc/core/slac/index');
  const { pino } = await import('pino');
  await assert.rejects(SlacEvse.open('nosuchif9', { log: pino({ level: 'silent' }) as never }), (error: unknown) => error instanceof SlacLinkError && error.code === 'ENODEV');
});
