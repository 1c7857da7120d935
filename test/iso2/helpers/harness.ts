/**
 * In-process harness for the ISO 15118-2 SECC: a bus validating against the real topic registry
 * (DIN and ISO 15118-2 topics), EVSE data set by hand, a charging port that records what it was
 * asked, and a logger that records every line.
 */
import { encode, decode } from '@opensecc/exi-codec';
import { KernelBus } from '@opensecc/core/kernel/bus';
import { TopicRegistry } from '@opensecc/core/kernel/topic-registry';
import type { Bus, Logger, LogFn } from '@opensecc/plugin-api';
import { HLC_TOPICS, HlcReporter, type EvseData, type EvseDataSource, type V2gChargingPort, type V2gCpState } from '@opensecc/core/v2g/index';
import { BusIso2EvseData, ISO2_TOPICS, Iso2SeccSession, type Iso2Outcome, type Iso2SeccConfig } from '@opensecc/core/v2g/iso2/index';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export function recordingLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const make = (level: string): LogFn =>
    ((a: unknown, b?: unknown) => {
      if (typeof a === 'string') lines.push({ level, message: a, fields: { ...bindings } });
      else lines.push({ level, message: typeof b === 'string' ? b : '', fields: { ...bindings, ...(a as Record<string, unknown>) } });
    }) as LogFn;
  return {
    lines,
    trace: make('trace'),
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    fatal: make('fatal'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

export function iso2Bus(): { kernelBus: KernelBus; bus: Bus; registry: TopicRegistry } {
  const registry = new TopicRegistry();
  registry.add('v2g', HLC_TOPICS);
  registry.add('v2g-iso2', ISO2_TOPICS);
  const kernelBus = new KernelBus({
    validate: (topic, value) => registry.validate(topic, value),
    retainPolicy: (topic) => registry.retained(topic),
    onHandlerError: (error) => {
      throw error;
    },
  });
  return { kernelBus, bus: kernelBus.view({ kind: 'kernel', name: 'v2g' }), registry };
}

export const READY_EVSE: EvseData = {
  presentVoltage: { value: 0, multiplier: 0, unit: 'V' },
  presentCurrent: { value: 0, multiplier: 0, unit: 'A' },
  maxVoltage: { value: 500, multiplier: 0, unit: 'V' },
  maxCurrent: { value: 200, multiplier: 0, unit: 'A' },
  maxPower: { value: 100, multiplier: 3, unit: 'W' },
  minVoltage: { value: 150, multiplier: 0, unit: 'V' },
  minCurrent: { value: 0, multiplier: 0, unit: 'A' },
  currentRegulationTolerance: undefined,
  peakCurrentRipple: { value: 5, multiplier: 0, unit: 'A' },
  energyToBeDelivered: undefined,
  isolationStatus: 'Valid',
  statusCode: 'EVSE_Ready',
  processing: 'Finished',
  authorization: 'Accepted',
  stopCharging: false,
  errorShutdown: false,
};

export class ManualEvse implements EvseDataSource {
  data: EvseData = { ...READY_EVSE };
  read(): EvseData {
    return this.data;
  }
  set(change: Partial<EvseData>): void {
    this.data = { ...this.data, ...change };
  }
}

/** A charging port that records what the session asked. */
export class FakePort implements V2gChargingPort {
  readonly calls: string[] = [];
  cpState: V2gCpState | undefined = 'C';
  closeResult = true;
  setHighLevelCommunication(enabled: boolean): void {
    this.calls.push(`hlc:${enabled}`);
  }
  async requestPowerDelivery(on: boolean): Promise<boolean> {
    this.calls.push(`power:${on}`);
    return on ? this.closeResult : true;
  }
  onCpStateChange(): () => void {
    return () => {};
  }
  safeStop(fault: { code: string }): void {
    this.calls.push(`safeStop:${fault.code}`);
  }
}

export const ZERO_ID = '0000000000000000';
export const msg = (name: string, body: Record<string, unknown>, sessionId = ZERO_ID) => ({ V2G_Message: { Header: { SessionID: sessionId }, Body: { [name]: body } } });

export interface Sent extends Iso2Outcome {
  readonly body: Record<string, unknown> | undefined;
}

/**
 * One SECC session with its bus. `send` goes through the real codec both ways: the request is
 * encoded and decoded before the SECC sees it, the response encoded and decoded before the test does.
 */
export function iso2Setup(options: { config?: Partial<Iso2SeccConfig>; now?: () => number; previousSessionId?: string; bus?: Pick<ReturnType<typeof iso2Bus>, 'bus' | 'kernelBus'>; evse?: ManualEvse; port?: FakePort } = {}) {
  const buses = options.bus ?? iso2Bus();
  const { bus } = buses;
  const evse = options.evse ?? new ManualEvse();
  const port = options.port ?? new FakePort();
  const log = recordingLogger();
  const session = new Iso2SeccSession({
    evse,
    iso2Evse: new BusIso2EvseData(bus),
    report: new HlcReporter(bus, log),
    log,
    port,
    ...(options.now ? { now: options.now } : {}),
    ...(options.previousSessionId ? { previousSessionId: options.previousSessionId } : {}),
    config: { ongoingTimeoutMs: 60_000, ...options.config },
  });
  const send = async (name: string, body: Record<string, unknown> = {}, sid?: string): Promise<Sent> => {
    const request = decode('iso2', encode('iso2', msg(name, body, sid ?? (session.sessionId || ZERO_ID))));
    const outcome = await session.handle(request);
    let resBody: Record<string, unknown> | undefined;
    if (outcome.response) {
      const back = decode('iso2', encode('iso2', outcome.response)) as { V2G_Message: { Body: Record<string, Record<string, unknown>> } };
      resBody = Object.values(back.V2G_Message.Body)[0];
    }
    return { ...outcome, body: resBody };
  };
  return { session, evse, port, bus, kernelBus: buses.kernelBus, log, send };
}
export type Iso2Harness = ReturnType<typeof iso2Setup>;
