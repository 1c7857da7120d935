import { readFileSync } from 'node:fs';
import type { MqttTlsConfig } from './config.js';

/** A bad TLS option: names the option and what was wrong. */
export class MqttConfigError extends Error {
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`plugins.mqtt-api.config.${option}: ${reason}`);
    this.name = 'MqttConfigError';
  }
}

/** PEM text is used as is; anything else is a path to a PEM file. */
function pem(option: string, value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.includes('-----BEGIN ')) return Buffer.from(value, 'utf8');
  try {
    return readFileSync(value);
  } catch (error) {
    throw new MqttConfigError(option, `cannot read PEM file '${value}' (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

export function tlsOptions(tls: MqttTlsConfig | undefined): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean } {
  if (!tls) return {};
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean } = { rejectUnauthorized: tls.rejectUnauthorized };
  const ca = pem('tls.ca', tls.ca);
  const cert = pem('tls.cert', tls.cert);
  const key = pem('tls.key', tls.key);
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  if ((cert === undefined) !== (key === undefined)) throw new MqttConfigError(cert ? 'tls.key' : 'tls.cert', 'tls.cert and tls.key go together (mutual TLS)');
  return out;
}
