/**
 * The V2G subsystem of one charging point: SDP server, V2G server(s) over TCP and/or TLS, one
 * session at a time, coupled to the control pilot and the contactors through the charging port.
 */
import { messageHex } from './transport/header.js';
import { traceV2g } from '../trace/publish.js';
import type { Bus, Logger } from '@opensecc/plugin-api';
import type { V2gChargingPort, V2gCpState } from './charging-port.js';
import { resolveV2gConfig, type V2gConfig } from './config.js';
import { ConnectionSession, IMPLEMENTED_PROTOCOLS } from './connection-session.js';
import type { DinSeccHooks } from './din/secc.js';
import { BusEvseData, HlcReporter, type EvseDataSource } from './evse-data.js';
import { BusIso2EvseData, type Iso2EvseDataSource } from './iso2/evse-data.js';
import type { Iso2ServiceProvider } from './iso2/services.js';
import type { Iso2PncProvider } from './iso2/pnc.js';
import { linkLocalAddress, SdpServer } from './sdp/server.js';
import { HLC, type HlcSessionState } from './topics.js';
import type { V2gtpConnection } from './transport/connection.js';
import { V2gtpServer } from './transport/server.js';
import { serverTlsOptions } from './transport/tls.js';

export interface V2gServiceOptions {
  readonly bus: Bus;
  readonly log: Logger;
  readonly config?: Partial<V2gConfig>;
  /** The PLC interface: SDP multicast and the link-local address the servers listen on. */
  readonly iface?: string;
  /** Listen address when there is no interface (simulation, tests): default '::1'. */
  readonly host?: string;
  /** SDP port (15118; tests may move it). */
  readonly sdpPort?: number;
  /** Run the SDP server (default true). */
  readonly sdp?: boolean;
  readonly port?: V2gChargingPort;
  /** Where EVSE data comes from (default: the bus). */
  readonly evse?: EvseDataSource;
}

export interface V2gServiceEvents {
  /** A V2G connection was accepted (the simulated board plugs a car in from here on with --sim --iface). */
  connection?(info: { id: number; remote: string; secure: boolean }): void;
  /** PowerDelivery start/stop, before the contactors are switched (the simulated board goes C/B). */
  powerDelivery?(on: boolean): void;
  state?(state: HlcSessionState): void;
  exchange?(exchange: { request: string; response: string | undefined; code: string | undefined }): void;
  sessionEnd?(info: { sessionId: string | undefined; reason: string }): void;
}

export class V2gService {
  readonly config: V2gConfig;
  private readonly log: Logger;
  private readonly reporter: HlcReporter;
  private readonly evse: EvseDataSource;
  private readonly iso2Evse: Iso2EvseDataSource;
  private tcp: V2gtpServer | undefined;
  private tls: V2gtpServer | undefined;
  private sdp: SdpServer | undefined;
  private address: string | undefined;
  private current: ConnectionSession | undefined;
  private previousSessionId: string | undefined;
  private unsubscribeCp: (() => void) | undefined;
  private readonly listeners: V2gServiceEvents[] = [];
  private serviceProvider: Iso2ServiceProvider | undefined;
  private pncProvider: Iso2PncProvider | undefined;

  constructor(private readonly options: V2gServiceOptions) {
    this.config = resolveV2gConfig(options.config);
    this.log = options.log;
    this.reporter = new HlcReporter(options.bus, options.log);
    this.evse = options.evse ?? new BusEvseData(options.bus, { autoAuthorize: this.config.autoAuthorize });
    this.iso2Evse = new BusIso2EvseData(options.bus);
  }

  /** Observe the service (the sim follower, the demo console, tests). */
  on(events: V2gServiceEvents): () => void {
    this.listeners.push(events);
    return () => {
      const i = this.listeners.indexOf(events);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Install the ISO 15118-2 value-added services provider (the vas plugin): sessions that start
   * afterwards offer its services. One provider at a time; the returned function removes it.
   */
  setServiceProvider(provider: Iso2ServiceProvider): () => void {
    if (this.serviceProvider && this.serviceProvider !== provider) throw new Error('a value-added services provider is installed already');
    this.serviceProvider = provider;
    return () => {
      if (this.serviceProvider === provider) this.serviceProvider = undefined;
    };
  }

  /**
   * Install the ISO 15118-2 Plug & Charge provider (the pnc plugin): sessions that start afterwards
   * may offer Contract payment. One provider at a time; the returned function removes it.
   */
  setPncProvider(provider: Iso2PncProvider): () => void {
    if (this.pncProvider && this.pncProvider !== provider) throw new Error('a Plug & Charge provider is installed already');
    this.pncProvider = provider;
    return () => {
      if (this.pncProvider === provider) this.pncProvider = undefined;
    };
  }

  get tcpPort(): number | undefined {
    return this.tcp?.port;
  }

  get tlsPort(): number | undefined {
    return this.tls?.port;
  }

  get listenAddress(): string | undefined {
    return this.address;
  }

  get activeSession(): ConnectionSession | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    const iface = this.options.iface;
    const linkLocal = iface ? linkLocalAddress(iface) : undefined;
    if (iface && !linkLocal) throw new Error(`interface ${iface} has no IPv6 link-local address (is it up?)`);
    this.address = linkLocal ?? this.options.host ?? '::1';
    const host = linkLocal ? `${linkLocal}%${iface}` : this.address;
    const common = {
      host,
      maxPayloadLength: this.config.maxPayloadLength,
      log: this.log,
      onConnection: (connection: V2gtpConnection) => this.onConnection(connection),
    };
    const { security } = this.config;
    if (security === 'none' || security === 'both') {
      this.tcp = new V2gtpServer({ ...common, port: this.config.port });
      await this.tcp.listen();
    }
    if (security === 'tls' || security === 'both') {
      if (!this.config.tls) throw new Error(`v2g.security is '${security}' but v2g.tls names no certificate and key files`);
      this.tls = new V2gtpServer({ ...common, port: this.config.tlsPort, tls: serverTlsOptions(this.config.tls) });
      await this.tls.listen();
    }
    this.reporter.set(HLC.session.state, 'idle');
    this.reporter.set(HLC.session.protocol, null);
    this.reporter.set(HLC.session.id, null);
    if (this.options.sdp !== false) {
      this.sdp = new SdpServer({
        ...(iface ? { iface } : { bindAddress: this.address }),
        ...(this.options.sdpPort !== undefined ? { port: this.options.sdpPort } : {}),
        log: this.log,
        offer: () => ({ address: this.address!, ...(this.tcp ? { tcpPort: this.tcp.port } : {}), ...(this.tls ? { tlsPort: this.tls.port } : {}) }),
      });
      await this.sdp.start();
    }
    const port = this.options.port;
    if (port) {
      port.setHighLevelCommunication(true);
      this.unsubscribeCp = port.onCpStateChange((state) => this.onCpState(state));
    }
    this.log.info({ address: this.address, tcpPort: this.tcp?.port, tlsPort: this.tls?.port, protocols: this.offeredProtocols() }, 'V2G service started');
  }

  async stop(): Promise<void> {
    this.unsubscribeCp?.();
    await this.current?.abort('daemon stopping');
    await this.sdp?.stop();
    await this.tcp?.close();
    await this.tls?.close();
    this.reporter.set(HLC.session.state, 'idle');
  }

  private offeredProtocols() {
    return this.config.protocols.filter((p) => IMPLEMENTED_PROTOCOLS.includes(p));
  }

  private emit<K extends keyof V2gServiceEvents>(event: K, ...args: Parameters<NonNullable<V2gServiceEvents[K]>>): void {
    for (const listener of this.listeners) {
      try {
        (listener[event] as ((...a: unknown[]) => void) | undefined)?.(...args);
      } catch (error) {
        this.log.error({ err: error, event }, 'V2G service listener failed');
      }
    }
  }

  private onConnection(connection: V2gtpConnection): void {
    this.emit('connection', { id: connection.id, remote: connection.remote, secure: connection.secure });
    const hooks: DinSeccHooks = {
      onPowerDelivery: (on) => this.emit('powerDelivery', on),
      onState: (state) => this.emit('state', state),
    };
    const session = new ConnectionSession({
      connection,
      policy: { protocols: this.offeredProtocols(), prefer: this.config.prefer },
      timeouts: this.config.timeouts,
      evse: this.evse,
      report: this.reporter,
      log: this.log,
      hooks,
      din: { evseId: this.config.evseId, powerDeliveryTimeoutMs: this.config.powerDeliveryTimeoutMs, cableCheckNeedsStateC: this.config.cableCheckNeedsStateC },
      iso2: this.config.iso2 ?? {},
      iso2Evse: this.iso2Evse,
      ...(this.serviceProvider ? { iso2Services: this.serviceProvider } : {}),
      ...(this.pncProvider ? { iso2Pnc: this.pncProvider } : {}),
      ...(this.options.port ? { port: this.options.port } : {}),
      ...(this.previousSessionId ? { previousSessionId: this.previousSessionId } : {}),
      onExchange: (exchange) => this.emit('exchange', exchange),
      onTraffic: (traffic) =>
        // The trace holds whole V2GTP messages (header + payload), as they were on the wire.
        traceV2g(this.options.bus, () => ({ at: traffic.at, session: traffic.session, direction: traffic.direction, protocol: traffic.protocol, payloadType: traffic.payloadType, hex: messageHex(traffic.payloadType, traffic.payload) })),
      onEnd: (info) => {
        if (this.current === session) this.current = undefined;
        // DIN 70121 may rejoin any previous session of this plug-in; ISO 15118-2 only a paused one.
        if (info.sessionId) this.previousSessionId = info.protocol === 'iso15118-2' && !info.paused ? undefined : info.sessionId;
        this.log.info(info, 'V2G session ended');
        this.emit('sessionEnd', info);
      },
    });
    this.current = session;
  }

  private onCpState(state: V2gCpState): void {
    if (state === 'A' || state === 'E' || state === 'F') {
      const reason = state === 'A' ? 'EV unplugged (CP state A)' : `CP state ${state}`;
      this.previousSessionId = undefined;
      if (this.current) void this.current.abort(reason);
    }
  }
}
