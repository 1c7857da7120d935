import { Duplex } from 'node:stream';

/**
 * Two connected in-memory streams: what one side writes, the other reads. The MQTT API plugin talks
 * to the embedded broker over such a pair instead of a loopback TCP socket, which saves every
 * publish, acknowledgement and echo a trip through the kernel's network stack.
 *
 * Delivery is deferred to the next tick (in order), so that a write never re-enters the reader's
 * parser while the writer is still on the stack, as with a socket. Ending or destroying one side
 * ends the other, as a closed connection would.
 */
export function inProcessLink(): [Duplex, Duplex] {
  let a: Duplex | undefined;
  let b: Duplex | undefined;
  const side = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        const other = peer();
        if (other.destroyed) return callback(new Error('in-process MQTT link closed'));
        process.nextTick(() => other.destroyed || other.push(chunk));
        callback();
      },
      final(callback) {
        const other = peer();
        process.nextTick(() => other.destroyed || other.push(null));
        callback();
      },
      destroy(error, callback) {
        const other = peer();
        process.nextTick(() => other.destroyed || other.destroy());
        callback(error);
      },
    });
  a = side(() => b!);
  b = side(() => a!);
  return [a, b];
}
