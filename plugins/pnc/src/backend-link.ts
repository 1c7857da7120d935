/**
 * The customer's backend link for certificate installation and update: the request goes out on
 * ci/pnc/certificate_{installation,update}/request, the answer comes back on …/response (the
 * charger's OCPP client lives outside this stack). An answer that does not arrive within the
 * timeout, says Failed, or does not encode as the response message ends in FAILED.
 */
import { randomUUID } from 'node:crypto';
import { decode, encode, toHex } from '@opensecc/exi-codec';
import type { Bus, Logger, PncCertificateRequest, PncCertificateResponse, Unsubscribe } from '@opensecc/plugin-api';
import { PNC } from './topics.js';

interface Pending {
  readonly kind: PncCertificateRequest['kind'];
  readonly sessionId: string;
  readonly resolve: (answer: PncCertificateResponse) => void;
  readonly timer: NodeJS.Timeout;
}

interface ResponseMessage {
  requestId?: string;
  sessionId: string;
  status?: 'Accepted' | 'Failed';
  exi?: string;
  response?: Record<string, unknown>;
  signature?: Record<string, unknown>;
}

const TOPICS = {
  installation: { request: PNC.installationRequest, response: PNC.installationResponse, req: 'CertificateInstallationReq', res: 'CertificateInstallationRes' },
  update: { request: PNC.updateRequest, response: PNC.updateResponse, req: 'CertificateUpdateReq', res: 'CertificateUpdateRes' },
} as const;

export class BackendLink {
  private readonly pending = new Map<string, Pending>();
  private readonly unsubscribes: Unsubscribe[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly timeoutMs: () => number,
  ) {}

  start(): void {
    for (const kind of ['installation', 'update'] as const) {
      this.unsubscribes.push(this.bus.subscribe<ResponseMessage>(TOPICS[kind].response, (m) => this.onResponse(kind, m.value)));
    }
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const [id, pending] of this.pending) this.settle(id, pending, { ok: false, code: 'FAILED', reason: 'the pnc plugin is stopping' });
  }

  request(request: PncCertificateRequest): Promise<PncCertificateResponse> {
    const t = TOPICS[request.kind];
    const requestId = randomUUID();
    let exi: string;
    try {
      exi = toHex(encode('iso2', { V2G_Message: { Header: { SessionID: request.sessionId, Signature: request.signature }, Body: { [t.req]: request.body } } }));
    } catch (error) {
      return Promise.resolve({ ok: false, code: 'FAILED', reason: `the request does not encode: ${(error as Error).message}` });
    }
    const timeout = this.timeoutMs();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const pending = this.pending.get(requestId);
        if (pending) this.settle(requestId, pending, { ok: false, code: 'FAILED', reason: `no backend answer on ${t.response} within ${timeout} ms` });
      }, timeout);
      this.pending.set(requestId, { kind: request.kind, sessionId: request.sessionId, resolve, timer });
      try {
        this.bus.publish(t.request, {
          requestId,
          sessionId: request.sessionId,
          ...(request.emaid !== undefined ? { emaid: request.emaid } : {}),
          request: { [t.req]: request.body },
          signature: request.signature,
          exi,
        });
        this.log.info({ requestId, sessionId: request.sessionId, kind: request.kind }, 'certificate request handed to the backend');
      } catch (error) {
        this.settle(requestId, this.pending.get(requestId)!, { ok: false, code: 'FAILED', reason: `cannot publish ${t.request}: ${(error as Error).message}` });
      }
    });
  }

  private onResponse(kind: PncCertificateRequest['kind'], message: ResponseMessage): void {
    const id =
      message.requestId ??
      [...this.pending.entries()].find(([, p]) => p.kind === kind && p.sessionId === message.sessionId)?.[0];
    const pending = id !== undefined ? this.pending.get(id) : undefined;
    if (!pending || pending.kind !== kind || pending.sessionId !== message.sessionId) {
      this.log.warn({ requestId: message.requestId, sessionId: message.sessionId, kind }, 'backend answer for no open request: ignored');
      return;
    }
    this.settle(id!, pending, this.interpret(kind, message));
  }

  private interpret(kind: PncCertificateRequest['kind'], message: ResponseMessage): PncCertificateResponse {
    const resName = TOPICS[kind].res;
    if (message.status === 'Failed') return { ok: false, code: 'FAILED', reason: 'the backend answered Failed' };
    let body: Record<string, unknown> | undefined;
    let signature: Record<string, unknown> | undefined;
    if (message.exi !== undefined) {
      try {
        const document = decode('iso2', Buffer.from(message.exi, 'hex')) as { V2G_Message?: { Header?: { Signature?: Record<string, unknown> }; Body?: Record<string, Record<string, unknown>> } };
        body = document.V2G_Message?.Body?.[resName];
        signature = document.V2G_Message?.Header?.Signature;
      } catch (error) {
        return { ok: false, code: 'FAILED', reason: `the backend's exi does not decode: ${(error as Error).message}` };
      }
    } else {
      body = message.response?.[resName] as Record<string, unknown> | undefined;
      signature = message.signature;
    }
    if (!body || typeof body !== 'object') return { ok: false, code: 'FAILED', reason: `the backend's answer holds no ${resName}` };
    const code = String(body.ResponseCode);
    if (code.startsWith('OK') && !signature) return { ok: false, code: 'FAILED', reason: `the backend's ${resName} is not signed (Header/Signature missing)` };
    try {
      encode('iso2', { V2G_Message: { Header: { SessionID: message.sessionId, ...(signature ? { Signature: signature } : {}) }, Body: { [resName]: body } } });
    } catch (error) {
      return { ok: false, code: 'FAILED', reason: `the backend's ${resName} does not encode: ${(error as Error).message}` };
    }
    return { ok: true, body, ...(signature ? { signature } : {}) };
  }

  private settle(id: string, pending: Pending, answer: PncCertificateResponse): void {
    clearTimeout(pending.timer);
    this.pending.delete(id);
    if (!answer.ok) this.log.warn({ requestId: id, sessionId: pending.sessionId, reason: answer.reason }, 'certificate request failed');
    pending.resolve(answer);
  }
}
