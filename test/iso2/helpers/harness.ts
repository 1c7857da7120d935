/**
 * In-process harness for the ISO 15118-2 SECC: a bus validating against the real topic registry
 * (DIN and ISO 15118-2 topics), EVSE data set by hand, a charging port that records what it was
 * asked, and a logger that records every line.
 */
import { encode, decode } from '@opensecc/exi-codec';
import { validatingBus, type ValidatingBus } from '#support/bus.js';
import { FakePort } from '#support/charging-port.js';
import { ManualEvse } from '#support/evse.js';
import { recordingLogger } from '#support/log.js';
import { HLC_TOPICS, HlcReporter } from '@opensecc/core/v2g/index';
import { BusIso2EvseData, ISO2_TOPICS, Iso2SeccSession, type Iso2Outcome, type Iso2SeccConfig } from '@opensecc/core/v2g/iso2/index';

/** HLC and ISO 15118-2 topics registered. */
export function iso2Bus(): ValidatingBus {
  return validatingBus({ v2g: HLC_TOPICS, 'v2g-iso2': ISO2_TOPICS });
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
