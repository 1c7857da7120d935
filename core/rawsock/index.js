// @opensecc/rawsock: raw Ethernet frames on a named Linux interface (AF_PACKET), for SLAC.
// The native part is src/rawsock.c, built by node-gyp when npm installs this workspace.
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';

const require = createRequire(import.meta.url);

let binding;
let loadError;
function native() {
  if (binding) return binding;
  if (loadError) throw loadError;
  try {
    binding = require('./build/Release/rawsock.node');
    return binding;
  } catch (cause) {
    loadError = new Error(
      `the @opensecc/rawsock native addon is not built (${cause.message.split('\n')[0]}); ` +
        'run `npm rebuild @opensecc/rawsock` (needs python3, make and a C compiler)',
      { cause },
    );
    loadError.code = 'ERR_RAWSOCK_NOT_BUILT';
    throw loadError;
  }
}

/** True when the native addon can be loaded (it is built and this is Linux). */
export function isAvailable() {
  try {
    native();
    return true;
  } catch {
    return false;
  }
}

function formatMac(buffer) {
  return Array.from(buffer, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * A raw socket bound to one interface and one EtherType.
 * Events: 'frame' (Buffer: the whole Ethernet frame, destination MAC first), 'error' (Error).
 */
export class RawSocket extends EventEmitter {
  #handle;
  #closed = false;

  /** Opens the socket; throws an Error with `code` (e.g. 'ENODEV', 'EPERM') and a clear message. */
  static open(ifname, ethertype) {
    return new RawSocket(ifname, ethertype);
  }

  constructor(ifname, ethertype) {
    super();
    this.ifname = ifname;
    this.ethertype = ethertype;
    this.#handle = native().open(ifname, ethertype, (err, frame) => {
      if (this.#closed) return;
      if (err) this.emit('error', err);
      else this.emit('frame', frame);
    });
    const mac = native().mac(this.#handle);
    this.macBytes = mac;
    this.mac = formatMac(mac);
    this.ifindex = native().ifindex(this.#handle);
  }

  get closed() {
    return this.#closed;
  }

  /** Sends one frame as given (no padding here; the caller pads to the Ethernet minimum). */
  send(frame) {
    if (this.#closed) throw Object.assign(new Error(`rawsock: socket on ${this.ifname} is closed`), { code: 'ERR_SOCKET_CLOSED' });
    return native().send(this.#handle, frame);
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    native().close(this.#handle);
    this.removeAllListeners('frame');
  }
}
