/**
 * In-process Plug & Charge stack for SECC-level tests: a bus validating against the real topic
 * registry (DIN, ISO 15118-2 and the pnc plugin's topics), the pnc plugin's provider over a
 * generated PKI, the simulated certificate backend on the same bus, and an Iso2SeccSession whose
 * requests and responses go through the real EXI codec both ways.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@opensecc/exi-codec';
import { SimPncBackend } from '@opensecc/core/sim/pnc-backend';
import { HLC_TOPICS, HlcReporter } from '@opensecc/core/v2g/index';
import { validatingBus } from '#support/bus.js';
import { ManualEvse, READY_EVSE } from '#support/evse.js';
import { BusIso2EvseData, ISO2_TOPICS, Iso2SeccSession, type Iso2SeccConfig } from '@opensecc/core/v2g/iso2/index';
import type { Iso2PncProvider } from '@opensecc/core/v2g/iso2/pnc';
import { BackendLink, loadMaterial, PNC_TOPICS, PncProvider, resolvePaths, DEFAULT_PNC_CONFIG } from '@opensecc/plugin-pnc';
import type { Logger, LogFn } from '@opensecc/plugin-api';
import { generatePki, signIso2, type GeneratePkiOptions, type PkiLayout } from '@opensecc/v2g-pki';
import type { KeyObject } from 'node:crypto';

export function silentLogger(lines: string[] = []): Logger {
  const make = (level: string): LogFn =>
    ((a: unknown, b?: unknown) => {
      lines.push(`${level}: ${typeof a === 'string' ? a : `${String(b ?? '')} ${JSON.stringify(a, (_k, v) => (v instanceof Error ? v.message : v))}`}`);
    }) as LogFn;
  const log: Logger = { trace: make('trace'), debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error'), fatal: make('fatal'), child: () => log };
  return log;
}

const pkiCache = new Map<string, Promise<PkiLayout>>();

/** A generated PKI in a fresh temporary directory (cached per variant within one test file). */
export function pki(variant = 'default', options: GeneratePkiOptions = {}): Promise<PkiLayout> {
  let made = pkiCache.get(variant);
  if (!made) {
    made = generatePki(mkdtempSync(join(tmpdir(), `pnc-${variant}-`)), options);
    pkiCache.set(variant, made);
  }
  return made;
}

export function pncBus() {
  return validatingBus({ v2g: HLC_TOPICS, 'v2g-iso2': ISO2_TOPICS, pnc: PNC_TOPICS });
}

export { READY_EVSE, ManualEvse };

export interface StackOptions {
  /** The SECC's PKI (trust stores, SECC chain): default the 'default' PKI. */
  readonly secc?: PkiLayout;
  readonly backend?: 'answer' | 'silent' | 'fail';
  readonly backendTimeoutMs?: number;
}

/** Provider + backend link + simulated backend on one bus. */
export async function pncStack(options: StackOptions = {}) {
  const layout = options.secc ?? (await pki());
  const buses = pncBus();
  const logLines: string[] = [];
  const log = silentLogger(logLines);
  const material = loadMaterial(resolvePaths({ ...DEFAULT_PNC_CONFIG, pkiDir: layout.dir }, mkdtempSync(join(tmpdir(), 'pnc-data-'))));
  const link = new BackendLink(buses.kernelBus.view({ kind: 'plugin', name: 'pnc' }), log, () => options.backendTimeoutMs ?? 2000);
  link.start();
  const provider = new PncProvider(() => material, link, log);
  const backend = new SimPncBackend({ bus: buses.kernelBus.view({ kind: 'external', name: 'backend' }), log, pkiDir: layout.dir, behaviour: options.backend ?? 'answer' });
  backend.start();
  return { layout, ...buses, provider, link, backend, material, log, logLines, stop: () => (link.stop(), backend.stop()) };
}

export const ZERO_ID = '0000000000000000';

export interface SendOptions {
  /** Sign the body (it needs an Id) into Header/Signature with this key. */
  readonly signWith?: KeyObject;
  /** A ready signature to put into the header. */
  readonly signature?: unknown;
  /** Change the document after signing, before encoding. */
  readonly transform?: (document: { V2G_Message: { Header: Record<string, unknown>; Body: Record<string, Record<string, unknown>> } }) => void;
  readonly sessionId?: string;
}

export interface Answer {
  readonly name: string | undefined;
  readonly code: string | undefined;
  readonly body: Record<string, unknown>;
  readonly header: Record<string, unknown>;
  readonly close: boolean;
  readonly stopReason: string | undefined;
}

export function seccSession(provider: Iso2PncProvider | undefined, bus: ReturnType<typeof pncBus>['bus'], options: { secure?: boolean; config?: Partial<Iso2SeccConfig>; evse?: ManualEvse } = {}) {
  const log = silentLogger();
  const evse = options.evse ?? new ManualEvse();
  const session = new Iso2SeccSession({
    evse,
    iso2Evse: new BusIso2EvseData(bus),
    report: new HlcReporter(bus, log),
    log,
    ...(provider ? { pnc: provider } : {}),
    secure: options.secure ?? true,
    config: { paymentOptions: ['Contract', 'ExternalPayment'], ...options.config },
  });
  const send = async (name: string, body: Record<string, unknown> = {}, o: SendOptions = {}): Promise<Answer> => {
    const header: Record<string, unknown> = { SessionID: o.sessionId ?? (session.sessionId || ZERO_ID) };
    if (o.signWith) header.Signature = signIso2([{ id: String(body.Id), fragment: { [name]: body } }], o.signWith);
    if (o.signature) header.Signature = o.signature;
    const document = { V2G_Message: { Header: header, Body: { [name]: body } } };
    o.transform?.(document);
    const request = decode('iso2', encode('iso2', document));
    const outcome = await session.handle(request);
    const back = outcome.response ? (decode('iso2', encode('iso2', outcome.response)) as { V2G_Message: { Header: Record<string, unknown>; Body: Record<string, Record<string, unknown>> } }) : undefined;
    return {
      name: outcome.responseName,
      code: outcome.responseCode,
      body: back ? Object.values(back.V2G_Message.Body)[0]! : {},
      header: back?.V2G_Message.Header ?? {},
      close: outcome.close,
      stopReason: outcome.stopReason,
    };
  };
  return { session, evse, send, log };
}
