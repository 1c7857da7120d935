/**
 * The simulated PLC link and control pilot between the daemon (`secc start --sim`) and the EV
 * simulator (`secc sim ev`) in separate processes: one Unix socket carrying the raw Ethernet frames
 * of the HomePlug link (so SLAC runs as on a real modem) and the control pilot (the EV's circuit
 * one way, the EVSE's CP output the other), so a simulated session goes through SLAC and the CP
 * states B/C as a real one does. IP traffic (SDP, V2GTP) uses the host's real loopback.
 *
 * Wire format: records of [type u8][length u32 BE][payload]; type 1 = Ethernet frame (destination
 * MAC first), 2 = the EV's circuit (JSON), 3 = the EVSE's CP output (JSON).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import type { Logger } from '@opensecc/plugin-api';
import type { CpOutput } from '../hal/cp.js';
import { PP_NOMINAL_OHMS } from '../hal/pp.js';
import type { SimulatedBoard } from '../hal/simulated-board.js';
import { padFrame } from '../slac/codec.js';
import { SlacLinkError, type FrameHandler, type SlacLink } from '../slac/link.js';
import type { EvPilot } from './ev-simulator.js';

const RECORD = { frame: 1, circuit: 2, cp: 3 } as const;
const MAX_RECORD = 65536;

/** The EV side of the CP circuit as it travels over the link. */
export interface EvCircuit {
  readonly connected: boolean;
  readonly s2Closed: boolean;
  readonly needsVentilation: boolean;
  /** The cable's PP resistor; null: no cable in the socket. */
  readonly cableOhms: number | null;
}

type RecordHandler = (type: number, payload: Buffer) => void;

/** Splits the byte stream into records; a record beyond the limit ends the link. */
class RecordReader {
  private buffer: Buffer = Buffer.alloc(0);
  constructor(private readonly onRecord: RecordHandler, private readonly onError: (error: Error) => void) {}
  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 5) {
      const length = this.buffer.readUInt32BE(1);
      if (length > MAX_RECORD) {
        this.onError(new Error(`sim link record of ${length} bytes`));
        return;
      }
      if (this.buffer.length < 5 + length) return;
      const type = this.buffer[0]!;
      const payload = this.buffer.subarray(5, 5 + length);
      this.buffer = this.buffer.subarray(5 + length);
      this.onRecord(type, payload);
    }
  }
}

function record(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = type;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

/** A SlacLink over a sim-link socket (either end). */
class SocketSlacLink implements SlacLink {
  private readonly handlers = new Set<FrameHandler>();
  private readonly errorHandlers = new Set<(error: Error) => void>();
  private isClosed = false;

  constructor(
    readonly name: string,
    readonly mac: string,
    private readonly write: (frame: Buffer) => boolean,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  send(frame: Uint8Array): void {
    if (this.isClosed) throw new SlacLinkError(`cannot send on ${this.name}: the link is closed`, this.name, 'ERR_SOCKET_CLOSED');
    // Not connected (no EV yet): the frame is lost, as on a PLC line without a partner.
    this.write(padFrame(frame));
  }

  onFrame(handler: FrameHandler): () => void {
    this.handlers.add(handler);
    return () => void this.handlers.delete(handler);
  }

  onError(handler: (error: Error) => void): () => void {
    this.errorHandlers.add(handler);
    return () => void this.errorHandlers.delete(handler);
  }

  deliver(frame: Buffer): void {
    if (this.isClosed) return;
    for (const handler of [...this.handlers]) handler(frame);
  }

  close(): void {
    this.isClosed = true;
    this.handlers.clear();
  }
}

export interface SimLinkHostOptions {
  readonly path: string;
  readonly board: SimulatedBoard;
  readonly log: Logger;
  /** MAC address of the EVSE's simulated modem interface. */
  readonly mac?: string;
}

/**
 * The daemon's end: listens on the socket, applies the EV's circuit to the simulated board, sends
 * the board's CP output to the EV, and offers the PLC side as a SlacLink for the SLAC EVSE.
 * One EV at a time; when it goes away the board sees the cable unplugged.
 */
export class SimLinkHost {
  readonly slacLink: SlacLink;
  private server: Server | undefined;
  private peer: Socket | undefined;
  private readonly link: SocketSlacLink;
  private unwatchCp: (() => void) | undefined;

  constructor(private readonly options: SimLinkHostOptions) {
    this.link = new SocketSlacLink('sim-link', options.mac ?? '02:00:5e:00:00:01', (frame) => this.send(RECORD.frame, frame));
    this.slacLink = this.link;
  }

  /** Whether an EV simulator is attached. */
  get connected(): boolean {
    return this.peer !== undefined;
  }

  async start(): Promise<void> {
    if (existsSync(this.options.path)) unlinkSync(this.options.path); // a stale socket of a previous run
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.path, () => resolve());
    });
    this.server = server;
    this.unwatchCp = this.options.board.onCpOutput((output) => this.send(RECORD.cp, Buffer.from(JSON.stringify(output))));
    this.options.log.info({ path: this.options.path }, 'simulated PLC link and control pilot listening');
  }

  async stop(): Promise<void> {
    this.unwatchCp?.();
    this.peer?.destroy();
    this.link.close();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (existsSync(this.options.path)) unlinkSync(this.options.path);
  }

  private accept(socket: Socket): void {
    const log = this.options.log;
    if (this.peer) {
      log.warn('a second EV simulator tried to attach to the simulated link: refused');
      socket.destroy();
      return;
    }
    this.peer = socket;
    log.info('EV simulator attached to the simulated link');
    const reader = new RecordReader(
      (type, payload) => this.onRecord(type, payload),
      (error) => {
        log.warn({ err: error }, 'simulated link: bad record, dropping the EV');
        socket.destroy();
      },
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.peer !== socket) return;
      this.peer = undefined;
      log.info('EV simulator left the simulated link: cable unplugged');
      this.options.board.setVehicle({ connected: false, s2Closed: false });
      this.options.board.setCableOhms(Number.POSITIVE_INFINITY);
    });
    this.send(RECORD.cp, Buffer.from(JSON.stringify(this.options.board.cpOutput)));
  }

  private onRecord(type: number, payload: Buffer): void {
    if (type === RECORD.frame) this.link.deliver(Buffer.from(payload));
    else if (type === RECORD.circuit) {
      let circuit: EvCircuit;
      try {
        circuit = JSON.parse(payload.toString()) as EvCircuit;
      } catch {
        this.options.log.warn('simulated link: circuit record is not JSON');
        return;
      }
      const board = this.options.board;
      board.setCableOhms(circuit.cableOhms ?? Number.POSITIVE_INFINITY);
      board.setVehicle({ connected: circuit.connected === true, s2Closed: circuit.s2Closed === true, needsVentilation: circuit.needsVentilation === true });
    }
  }

  private send(type: number, payload: Uint8Array): boolean {
    const peer = this.peer;
    if (!peer || peer.destroyed) return false;
    return peer.write(record(type, payload));
  }
}

/**
 * The EV simulator's end: a SlacLink for the SLAC EV and the EV's control pilot. S2 closes only
 * while the EVSE offers PWM, as IEC 61851-1 asks of an EV.
 */
export class SimLinkClient implements EvPilot {
  readonly slacLink: SlacLink;
  private readonly link: SocketSlacLink;
  private circuit: EvCircuit = { connected: false, s2Closed: false, needsVentilation: false, cableOhms: null };
  private wantsPower = false;
  private cp: CpOutput = { kind: 'steady', volts: 12 };
  private readonly cpListeners = new Set<(output: CpOutput) => void>();

  private constructor(private readonly socket: Socket, mac: string) {
    this.link = new SocketSlacLink('sim-link', mac, (frame) => socket.write(record(RECORD.frame, frame)));
    this.slacLink = this.link;
    const reader = new RecordReader(
      (type, payload) => this.onRecord(type, payload),
      () => socket.destroy(),
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => {});
  }

  static connect(path: string, mac = '02:00:5e:0a:0b:0c'): Promise<SimLinkClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path, () => {
        socket.off('error', reject);
        resolve(new SimLinkClient(socket, mac));
      });
      socket.once('error', (error) => reject(new Error(`cannot attach to the simulated link at ${path}: ${error.message} (is 'secc start --sim' running?)`)));
    });
  }

  /** The EVSE's CP output as the EV sees it. */
  get cpOutput(): CpOutput {
    return this.cp;
  }

  onCpOutput(listener: (output: CpOutput) => void): () => void {
    this.cpListeners.add(listener);
    return () => void this.cpListeners.delete(listener);
  }

  plugIn(): void {
    this.update({ connected: true, cableOhms: PP_NOMINAL_OHMS[32] });
  }

  requestPower(): void {
    this.wantsPower = true;
    this.updateS2();
  }

  stopPower(): void {
    this.wantsPower = false;
    this.updateS2();
  }

  unplug(): void {
    this.wantsPower = false;
    this.update({ connected: false, s2Closed: false, cableOhms: null });
  }

  close(): void {
    this.link.close();
    this.socket.end();
  }

  private onRecord(type: number, payload: Buffer): void {
    if (type === RECORD.frame) this.link.deliver(Buffer.from(payload));
    else if (type === RECORD.cp) {
      try {
        this.cp = JSON.parse(payload.toString()) as CpOutput;
      } catch {
        return;
      }
      for (const listener of [...this.cpListeners]) listener(this.cp);
      this.updateS2();
    }
  }

  private updateS2(): void {
    if (!this.circuit.connected) return;
    const s2Closed = this.wantsPower && this.cp.kind === 'pwm';
    if (s2Closed !== this.circuit.s2Closed) this.update({ s2Closed });
  }

  private update(change: Partial<EvCircuit>): void {
    this.circuit = { ...this.circuit, ...change };
    this.socket.write(record(RECORD.circuit, Buffer.from(JSON.stringify(this.circuit))));
  }
}
