/**
 * A V2G server on ::1 that dispatches by the negotiated protocol: DIN 70121 to DinSeccSession,
 * ISO 15118-2 to Iso2SeccSession — what ConnectionSession does once ISO 15118-2 is wired in
 * (see core/src/v2g/iso2/INTEGRATION.md). Real TCP/TLS (V2gtpServer), the simulated DC power
 * supply answering on the ci/hlc/evse topics, a bus validating against the real topic registry.
 * A paused ISO 15118-2 session's ID is kept for the next connection, as the service will.
 */
import { decode, encode } from '@opensecc/exi-codec';
import { SimulatedDcPowerSupply } from '@opensecc/core/sim/index';
import {
  appProtocolsOf,
  BusEvseData,
  DinSeccSession,
  HlcReporter,
  negotiate,
  PAYLOAD_TYPE,
  serverTlsOptions,
  V2gtpServer,
  type AppProtocolName,
  type V2gtpConnection,
} from '@opensecc/core/v2g/index';
import { BusIso2EvseData, Iso2SeccSession, type Iso2Outcome, type Iso2SeccConfig } from '@opensecc/core/v2g/iso2/index';
import { recordingLogger } from '#support/log.js';
import { iso2Bus } from './harness.js';

export interface ServedSession {
  protocol: AppProtocolName | undefined;
  sessionId: string | undefined;
  exchanges: Array<{ request: string; code: string | undefined }>;
  paused: boolean;
  closed: Promise<void>;
}

export async function startSecc(options: { protocols?: AppProtocolName[]; prefer?: 'ev' | 'secc'; iso2?: Partial<Iso2SeccConfig>; tls?: { certFile: string; keyFile: string } } = {}) {
  const { kernelBus, bus } = iso2Bus();
  const log = recordingLogger();
  const supply = new SimulatedDcPowerSupply({ bus: kernelBus.view({ kind: 'kernel', name: 'sim' }), authorize: true, voltageRampPerS: 4000, currentRampPerS: 4000, isolationTestMs: 30, tickMs: 5 });
  const evse = new BusEvseData(bus);
  const iso2Evse = new BusIso2EvseData(bus);
  const report = new HlcReporter(bus, log);
  const sessions: ServedSession[] = [];
  let pausedSessionId: string | undefined;
  const policy = { protocols: options.protocols ?? ['iso15118-2', 'din70121'], prefer: options.prefer ?? 'ev' } as const;

  const serve = (connection: V2gtpConnection) => {
    let resolveClosed!: () => void;
    const served: ServedSession = { protocol: undefined, sessionId: undefined, exchanges: [], paused: false, closed: new Promise((r) => (resolveClosed = r)) };
    sessions.push(served);
    let secc: DinSeccSession | Iso2SeccSession | undefined;
    let schema: 'din' | 'iso2' = 'din';
    connection.onClose(() => {
      served.sessionId = secc?.sessionId || undefined;
      if (secc && !secc.ended) void secc.abort('connection closed');
      resolveClosed();
    });
    connection.onRequest(async (message) => {
      if (message.payloadType !== PAYLOAD_TYPE.exi) return;
      if (!secc) {
        const result = negotiate(appProtocolsOf(decode('apphand', message.payload)), policy);
        connection.send(PAYLOAD_TYPE.exi, encode('apphand', result.response));
        served.exchanges.push({ request: 'supportedAppProtocolReq', code: result.response.supportedAppProtocolRes.ResponseCode });
        if (!result.ok) return connection.close({ kind: 'local', why: result.reason });
        served.protocol = result.protocol;
        const common = { evse, report, log, ...(pausedSessionId ? { previousSessionId: pausedSessionId } : {}) };
        if (result.protocol === 'iso15118-2') {
          schema = 'iso2';
          secc = new Iso2SeccSession({ ...common, iso2Evse, config: { ...options.iso2 } });
        } else {
          secc = new DinSeccSession(common);
        }
        return;
      }
      const request = decode(schema, message.payload);
      const outcome: Iso2Outcome = await secc.handle(request);
      const name = Object.keys((request as { V2G_Message: { Body: object } }).V2G_Message.Body)[0]!;
      served.exchanges.push({ request: name, code: outcome.responseCode });
      if (outcome.response) connection.send(PAYLOAD_TYPE.exi, encode(schema, outcome.response));
      if (outcome.close) {
        served.paused = outcome.paused === true;
        pausedSessionId = served.paused ? secc.sessionId : undefined;
        connection.close({ kind: 'local', why: outcome.stopReason ?? 'session ended' });
      }
    });
  };

  const server = new V2gtpServer({ host: '::1', port: 0, log, onConnection: serve, ...(options.tls ? { tls: serverTlsOptions(options.tls) } : {}) });
  supply.start();
  const port = await server.listen();
  return {
    port,
    bus,
    kernelBus,
    log,
    sessions,
    supply,
    async stop() {
      await server.close();
      supply.stop();
    },
  };
}
