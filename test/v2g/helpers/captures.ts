import { readFileSync } from 'node:fs';
import { decode } from '@opensecc/exi-codec';

export const CAPTURES_DIR = new URL('../../../../../shared/captures/', import.meta.url);

/** One EXI payload of a capture, decoded. */
export interface CapturedMessage {
  readonly packet: number;
  readonly hex: string;
  readonly schema: 'apphand' | 'din';
  readonly name: string;
  readonly document: Record<string, unknown>;
}

/** One EV request with the response the charger gave in the capture (if any). */
export interface CapturedExchange {
  readonly request: CapturedMessage;
  readonly response: CapturedMessage | undefined;
}

/** The EXI payloads of a pyPLC `.decoded.txt`, in capture order. */
export function readDecodedCapture(text: string): CapturedMessage[] {
  const out: CapturedMessage[] = [];
  for (const match of text.matchAll(/^Packet #(\d+) \[[^\]]+\] ([0-9a-f]+) means:/gm)) {
    const hex = match[2]!;
    const bytes = Buffer.from(hex, 'hex');
    let schema: 'apphand' | 'din' = 'din';
    let document: Record<string, unknown>;
    try {
      document = decode('din', bytes);
      if (!document.V2G_Message) throw new Error('not a V2G_Message');
    } catch {
      try {
        document = decode('apphand', bytes);
        schema = 'apphand';
      } catch {
        continue; // not an EXI payload of either schema
      }
    }
    const name = schema === 'apphand' ? Object.keys(document)[0]! : Object.keys((document.V2G_Message as { Body: object }).Body)[0]!;
    out.push({ packet: Number(match[1]), hex, schema, name, document });
  }
  return out;
}

/**
 * Pair requests with responses. TCP retransmissions show up as the same payload twice in a row;
 * they are dropped, as the receiving stack dropped them.
 */
export function exchangesOf(messages: readonly CapturedMessage[]): CapturedExchange[] {
  const out: Array<{ request: CapturedMessage; response: CapturedMessage | undefined }> = [];
  let previous: CapturedMessage | undefined;
  for (const message of messages) {
    const duplicate = previous !== undefined && previous.hex === message.hex;
    previous = message;
    if (duplicate) continue;
    if (message.name.endsWith('Req')) out.push({ request: message, response: undefined });
    else if (out.length > 0 && out[out.length - 1]!.response === undefined) out[out.length - 1]!.response = message;
  }
  return out;
}

export function loadCapture(file: string): CapturedExchange[] {
  return exchangesOf(readDecodedCapture(readFileSync(new URL(file, CAPTURES_DIR), 'utf8')));
}
