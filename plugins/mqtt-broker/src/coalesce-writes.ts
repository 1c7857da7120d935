import type { Socket } from 'node:net';

/** What a client gets by default: at most one write per millisecond. */
export const DEFAULT_WRITE_COALESCE_MS = 1;

/**
 * Packets for one client leave in one system call per turn of the event loop, and, while the
 * broker is busy, at most one per `intervalMs`.
 *
 * aedes writes every packet on its own. The station publishes several values and traces per
 * CurrentDemand loop; each write wakes the subscriber's process and costs the event loop a
 * system call, and the charging path waits behind both. A quiet broker still delivers at the end
 * of the turn; only a burst waits, and never longer than `intervalMs`.
 */
export function coalesceWrites(socket: Socket, intervalMs: number): Socket {
  let corked = false;
  let lastFlush = -Infinity;
  const flush = () => {
    corked = false;
    lastFlush = performance.now();
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      const wait = lastFlush + intervalMs - performance.now();
      // unref: a flush still pending for a client that is gone must not keep the process alive.
      if (wait > 0) setTimeout(flush, wait).unref();
      else setImmediate(flush);
    }
    return write.apply(this, args);
  } as Socket['write'];
  return socket;
}
