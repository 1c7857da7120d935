/**
 * coalesceWrites: the packets written to one client socket in one turn of the event loop leave in
 * one system call, and a burst that follows within intervalMs waits for the timer. Real TCP
 * sockets on 127.0.0.1; the writes are counted on the socket's native handle (one call there is
 * one write/writev to the kernel), because the peer's 'data' chunks say nothing reliable about how
 * the bytes were sent.
 */
import { afterEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connectAsync } from 'mqtt';
import { coalesceWrites, EmbeddedBroker } from '@opensecc/plugin-mqtt-broker';
import { Observer } from './support/observer.js';
import { memoryLogger } from './support/plugin-context.js';

/** The native handle's write entry points (libuv: one call, one write or writev system call). */
const HANDLE_WRITES = ['writev', 'writeBuffer', 'writeAsciiString', 'writeUtf8String', 'writeUcs2String', 'writeLatin1String'] as const;

interface SocketPair {
  readonly server: Server;
  /** The broker's side: the one that gets wrapped. */
  readonly local: Socket;
  /** The client's side: collects every byte it receives. */
  readonly peer: Socket;
  /** Native write calls made on `local` so far. */
  readonly handleWrites: () => number;
  /** Everything the peer has received so far. */
  readonly received: () => string;
  /** Resolves once the peer has received `text` in total. */
  receivedAll(text: string): Promise<void>;
  close(): void;
}

/** Taken before any test mocks the timers. */
const realSetTimeout = globalThis.setTimeout;
const clearRealTimeout = globalThis.clearTimeout;
const FAIL_AFTER_MS = 10_000;

async function socketPair(): Promise<SocketPair> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const peer = connect(port, '127.0.0.1');
  await new Promise((resolve) => peer.once('connect', resolve));
  const local = await accepted;
  local.on('error', () => {}); // writes after the peer left end in EPIPE/ECONNRESET on purpose
  peer.on('error', () => {});

  let writes = 0;
  const handle = (local as unknown as { _handle: Record<string, (...args: unknown[]) => unknown> })._handle;
  for (const name of HANDLE_WRITES) {
    const original = handle[name];
    assert.equal(typeof original, 'function', `the TCP handle has ${name}`);
    handle[name] = function (this: unknown, ...args: unknown[]) {
      writes++;
      return original!.apply(this, args);
    };
  }

  let text = '';
  const waiters = new Set<() => void>();
  peer.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const waiter of [...waiters]) waiter();
  });
  return {
    server,
    local,
    peer,
    handleWrites: () => writes,
    received: () => text,
    receivedAll: (expected) =>
      new Promise<void>((resolve, reject) => {
        // A failure deadline only (on the real timer: some tests mock setTimeout).
        const deadline = realSetTimeout(() => {
          waiters.delete(check);
          reject(new assert.AssertionError({ message: `the peer did not receive everything within ${FAIL_AFTER_MS} ms`, actual: text, expected, operator: 'strictEqual' }));
        }, FAIL_AFTER_MS);
        const check = () => {
          if (text.length < expected.length) return;
          waiters.delete(check);
          clearRealTimeout(deadline);
          if (text === expected) resolve();
          else reject(new assert.AssertionError({ message: 'the peer received other bytes', actual: text, expected, operator: 'strictEqual' }));
        };
        waiters.add(check);
        check();
      }),
    close() {
      peer.destroy();
      local.destroy();
      server.close();
    },
  };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `count` small messages written synchronously (one turn), as aedes writes one packet after another. */
function burst(socket: Socket, tag: string, count = 10): string {
  let sent = '';
  for (let i = 0; i < count; i++) {
    const message = `${tag}${i};`;
    socket.write(i % 2 ? Buffer.from(message, 'latin1') : message); // both kinds aedes and others write
    sent += message;
  }
  return sent;
}

afterEach(() => mock.timers.reset());

test('coalesceWrites: 10 writes in one turn leave in one native write, and the peer gets every byte in order', async () => {
  const pair = await socketPair();
  try {
    coalesceWrites(pair.local, 50);
    const sent = burst(pair.local, 'a');
    assert.equal(pair.handleWrites(), 0, 'nothing is written during the turn');
    await pair.receivedAll(sent);
    assert.equal(pair.handleWrites(), 1, 'one write for the whole burst');
  } finally {
    pair.close();
  }
});

test('coalesceWrites: a burst within intervalMs of the last flush waits for the timer, then leaves in one write (setTimeout mocked: the interval is stepped, not waited)', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const pair = await socketPair();
  try {
    const intervalMs = 60_000; // far longer than this test runs: the second burst is always "within" it
    coalesceWrites(pair.local, intervalMs);
    const first = burst(pair.local, 'a');
    await pair.receivedAll(first); // a quiet socket flushes at the end of the turn, no timer involved
    assert.equal(pair.handleWrites(), 1);

    // A burst within the interval is held, then leaves in one write on the timer; after that timed
    // flush the interval starts again, so the next burst is held the same way.
    let sent = first;
    for (const [i, tag] of ['b', 'c'].entries()) {
      const held = burst(pair.local, tag);
      for (let turn = 0; turn < 5; turn++) await nextTurn();
      assert.equal(pair.handleWrites(), 1 + i, `burst ${tag} is held while the interval runs`);
      assert.equal(pair.received(), sent, `and the peer has none of burst ${tag} yet`);

      mock.timers.tick(intervalMs);
      sent += held;
      await pair.receivedAll(sent);
      assert.equal(pair.handleWrites(), 2 + i, `burst ${tag} leaves in one write, on the timer`);
    }
  } finally {
    pair.close();
  }
});

test('coalesceWrites with intervalMs 0: one write per turn, no timer (setTimeout mocked and never stepped)', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const pair = await socketPair();
  try {
    coalesceWrites(pair.local, 0);
    let sent = '';
    for (const [turn, tag] of ['a', 'b', 'c'].entries()) {
      sent += burst(pair.local, tag);
      await nextTurn();
      assert.equal(pair.handleWrites(), turn + 1, `burst ${tag}: one write, at the end of its own turn`);
    }
    await pair.receivedAll(sent);
    assert.equal(pair.handleWrites(), 3);
  } finally {
    pair.close();
  }
});

test('coalesceWrites: writing to a socket whose peer is gone neither throws nor leaves a timer that keeps the process alive', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const pair = await socketPair();
  try {
    coalesceWrites(pair.local, 60_000);
    await pair.receivedAll(burst(pair.local, 'a'));
    const before = timers();

    // The peer leaves; the broker still writes to the client it has not noticed is gone.
    const closed = new Promise((resolve) => pair.local.once('close', resolve));
    pair.peer.destroy();
    assert.doesNotThrow(() => burst(pair.local, 'b'));
    await closed;
    assert.doesNotThrow(() => burst(pair.local, 'c'), 'a write after the socket closed');
    assert.doesNotThrow(() => pair.local.destroy());
    assert.doesNotThrow(() => burst(pair.local, 'd'), 'a write after destroy');
    await nextTurn();
    assert.equal(timers(), before, 'no pending flush keeps the event loop alive');
  } finally {
    pair.close();
  }
});

/**
 * Count native writes made by the broker's side of every TCP connection (the handles whose local
 * port is the broker's), by wrapping the shared TCP handle prototype; returns the count and the undo.
 */
async function countBrokerSideWrites(brokerPort: number): Promise<{ count: () => number; restore: () => void }> {
  const probe = connect(brokerPort, '127.0.0.1');
  await new Promise((resolve) => probe.once('connect', resolve));
  const proto = Object.getPrototypeOf((probe as unknown as { _handle: object })._handle) as Record<string, (...args: unknown[]) => unknown>;
  probe.destroy();
  let writes = 0;
  const originals = HANDLE_WRITES.map((name) => [name, proto[name]!] as const);
  for (const [name, original] of originals) {
    proto[name] = function (this: { getsockname(out: { port?: number }): void }, ...args: unknown[]) {
      const local: { port?: number } = {};
      this.getsockname(local);
      if (local.port === brokerPort) writes++;
      return original.apply(this, args);
    };
  }
  return { count: () => writes, restore: () => originals.forEach(([name, original]) => (proto[name] = original)) };
}

test('embedded broker: 20 publishes in one turn reach QoS 0 and QoS 1 subscribers over TCP, complete and in order, in fewer writes than packets', async () => {
  const { log } = memoryLogger('mqtt-broker');
  const broker = await EmbeddedBroker.start({ host: '127.0.0.1', port: 0 }, log);
  const qos1 = await Observer.connect(broker.url, ['burst/#']);
  const qos0 = await connectAsync(broker.url, { reconnectPeriod: 0 });
  const writes = await countBrokerSideWrites(broker.port);
  try {
    const qos0Received: string[] = [];
    qos0.on('message', (topic, payload) => qos0Received.push(`${topic}=${payload.toString()}`));
    await qos0.subscribeAsync('burst/#', { qos: 0 });
    const writesBefore = writes.count();

    const expected = Array.from({ length: 20 }, (_, i) => `burst/${i % 3}=${i}`);
    const published = expected.map((line) => {
      const [topic, payload] = line.split('=') as [string, string];
      return broker.publish(topic, Buffer.from(payload), false);
    });
    await Promise.all(published);

    await qos1.waitFor('the last message (QoS 1)', (m) => m.payload === '19');
    assert.deepEqual(
      qos1.messages.map((m) => `${m.topic}=${m.payload}`),
      expected,
    );
    const deadline = Date.now() + 10_000; // a failure deadline only
    while (qos0Received.length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(qos0Received, expected);
    // Uncoalesced, aedes writes every PUBLISH on its own: 2 subscribers x 20 = 40 writes.
    const burstWrites = writes.count() - writesBefore;
    assert.ok(burstWrites >= 2 && burstWrites < 2 * expected.length, `the broker's accepted sockets are wrapped: ${burstWrites} writes for ${2 * expected.length} packets`);
  } finally {
    writes.restore();
    await qos0.endAsync(true);
    await qos1.close();
    await broker.close();
  }
});
