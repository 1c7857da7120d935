/**
 * The pnc plugin's topics (registered from its manifest: validated on the bus, on MQTT, in
 * docs/mqtt-api.md). The eMAID of a session is a kernel topic (ci/hlc/ev/emaid), and the decision on
 * it the usual ci/hlc/evse/authorization.
 */
import { defineTopic, type JSONSchema, type TopicDefinition } from '@opensecc/plugin-api';

export const PNC = {
  certificates: 'ci/pnc/certificates',
  crls: 'ci/pnc/crls',
  expiryWarning: 'ci/pnc/expiry_warning',
  status: 'ci/pnc/status',
  installationRequest: 'ci/pnc/certificate_installation/request',
  installationResponse: 'ci/pnc/certificate_installation/response',
  updateRequest: 'ci/pnc/certificate_update/request',
  updateResponse: 'ci/pnc/certificate_update/response',
} as const;

export const CERTIFICATE_STATUSES = ['valid', 'expiring', 'expired', 'not_yet_valid'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export interface CertificateEntry {
  readonly role: string;
  readonly file: string;
  readonly subject: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly status: CertificateStatus;
  /** Whole days until notAfter (negative once expired). */
  readonly daysLeft: number;
}

const entrySchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'file', 'subject', 'notBefore', 'notAfter', 'status', 'daysLeft'],
  properties: {
    role: { type: 'string' },
    file: { type: 'string' },
    subject: { type: 'string' },
    notBefore: { type: 'string', description: 'ISO 8601' },
    notAfter: { type: 'string', description: 'ISO 8601' },
    status: { enum: [...CERTIFICATE_STATUSES] },
    daysLeft: { type: 'integer' },
  },
};

export const CRL_STATUSES = ['valid', 'expired', 'not_yet_valid'] as const;

export interface CrlEntry {
  readonly file: string;
  readonly issuer: string;
  readonly thisUpdate: string;
  readonly nextUpdate?: string;
  readonly crlNumber?: number;
  /** How many certificates it revokes. */
  readonly count: number;
  /** expired: nextUpdate has passed (it is still applied: a revocation does not lapse). */
  readonly status: (typeof CRL_STATUSES)[number];
  readonly signature: 'verified' | 'unverified';
}

const crlSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file', 'issuer', 'thisUpdate', 'count', 'status', 'signature'],
  properties: {
    file: { type: 'string' },
    issuer: { type: 'string', description: 'the CA whose certificates it lists (RFC 4514)' },
    thisUpdate: { type: 'string', description: 'ISO 8601' },
    nextUpdate: { type: 'string', description: 'ISO 8601' },
    crlNumber: { type: 'integer', minimum: 0 },
    count: { type: 'integer', minimum: 0, description: 'revoked certificates listed' },
    status: { enum: [...CRL_STATUSES] },
    signature: { enum: ['verified', 'unverified'], description: 'verified: signed by a CA certificate of the trust stores or the SECC chain; unverified: its issuer is checked when a chain through it is validated (a CRL that fails is ignored and logged)' },
  },
};

const hex: JSONSchema = { type: 'string', pattern: '^([0-9a-fA-F]{2})*$' };

const requestSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['requestId', 'sessionId', 'request', 'signature', 'exi'],
  properties: {
    requestId: { type: 'string', description: 'echo it in the response' },
    sessionId: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    emaid: { type: 'string', description: 'update only: the contract to renew' },
    request: { type: 'object', description: 'the request element as EXI JSON, e.g. {"CertificateInstallationReq": {...}}' },
    signature: { type: 'object', description: "the EV's Header/Signature (verified by the SECC)" },
    exi: { ...hex, description: 'the whole V2G_Message (header with signature, body) as EXI, hex: what OCPP Get15118EVCertificate forwards (base64 there)' },
  },
};

const responseSchema = (resName: string): JSONSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['sessionId'],
  properties: {
    requestId: { type: 'string', description: 'the requestId of the request (else the oldest open request of the session is answered)' },
    sessionId: { type: 'string', pattern: '^[0-9a-f]{16}$' },
    status: { enum: ['Accepted', 'Failed'], description: 'Failed: the SECC answers FAILED and ends the session' },
    exi: { ...hex, description: `the backend's whole V2G_Message with ${resName} and its Header/Signature, as EXI hex (OCPP exiResponse)` },
    response: { type: 'object', description: `{"${resName}": {...}} as EXI JSON (alternative to exi)` },
    signature: { type: 'object', description: 'Header/Signature over the response elements (with response)' },
  },
});

export const PNC_TOPICS: readonly TopicDefinition[] = [
  defineTopic({
    topic: PNC.certificates,
    direction: 'subscribeable-only',
    type: 'Array',
    retained: true,
    schema: { type: 'array', items: entrySchema },
    description: 'Every certificate the pnc plugin loaded (trust stores and the SECC chain): role, file, subject, validity and status (valid, expiring within plugins.pnc.config.warnBeforeExpiryDays, expired, not_yet_valid). Published at start, on every file change and periodically.',
  }),
  defineTopic({
    topic: PNC.crls,
    direction: 'subscribeable-only',
    type: 'Array',
    retained: true,
    schema: { type: 'array', items: crlSchema },
    description: 'The certificate revocation lists the pnc plugin applies (files *.crl / *.crl.pem in plugins.pnc.config.crlDir, default pkiDir, and in the trust store directories): issuer, thisUpdate/nextUpdate, CRL number, how many certificates each revokes, whether it is past nextUpdate, and whether its signature was verified at load. A CRL whose signature fails is not listed (see ci/pnc/status problems). Published with ci/pnc/certificates.',
  }),
  defineTopic({
    topic: PNC.expiryWarning,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: { ...entrySchema, properties: { ...(entrySchema.properties as object), message: { type: 'string' } }, required: [...(entrySchema.required as string[]), 'message'] },
    description: 'Event per certificate that expires within the warning period or has expired (same fields as ci/pnc/certificates plus a message), each time the status is evaluated.',
  }),
  defineTopic({
    topic: PNC.status,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['contractOffered', 'problems'],
      properties: { contractOffered: { type: 'boolean' }, reason: { type: 'string' }, problems: { type: 'array', items: { type: 'string' } } },
    },
    description: 'Whether Contract (Plug & Charge) is offered to TLS sessions now, why not, and the files that could not be used (missing, unreadable, a private key with a mode wider than 0600, a key that does not match the certificate).',
  }),
  defineTopic({
    topic: PNC.installationRequest,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: requestSchema,
    description: "A verified CertificateInstallationReq for the backend (OCPP Get15118EVCertificate, action Install): answer on ci/pnc/certificate_installation/response within plugins.pnc.config.backendTimeoutMs, else the SECC answers FAILED and ends the session.",
  }),
  defineTopic({
    topic: PNC.installationResponse,
    direction: 'publishable',
    type: 'Object',
    retained: false,
    schema: responseSchema('CertificateInstallationRes'),
    description: "The backend's signed CertificateInstallationRes for a request (exi, or response + signature), passed to the EV unchanged; status Failed ends the session with FAILED.",
  }),
  defineTopic({
    topic: PNC.updateRequest,
    direction: 'subscribeable-only',
    type: 'Object',
    retained: false,
    schema: requestSchema,
    description: "A verified CertificateUpdateReq (old contract chain validated, signature checked) for the backend (OCPP Get15118EVCertificate, action Update): answer on ci/pnc/certificate_update/response.",
  }),
  defineTopic({
    topic: PNC.updateResponse,
    direction: 'publishable',
    type: 'Object',
    retained: false,
    schema: responseSchema('CertificateUpdateRes'),
    description: "The backend's signed CertificateUpdateRes, as for the installation response.",
  }),
];
