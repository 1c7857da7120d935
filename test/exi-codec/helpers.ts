/** Shared test helpers: paths, capture payloads, fixtures. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bySession, v2gtpMessages } from './pcapng.js';

const here = dirname(fileURLToPath(import.meta.url));
/** test/exi-codec: this module runs from test/exi-codec/dist/. */
export const TEST_DIR = resolve(here, '..');
export const REPO_ROOT = resolve(TEST_DIR, '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');
export const CAPTURES_DIR = join(SHARED_DIR, 'captures');
export const SCHEMAS_DIR = join(SHARED_DIR, 'schemas');
export const FIXTURES_DIR = join(TEST_DIR, 'fixtures');
export const PACKAGE_DIR = join(REPO_ROOT, 'core', 'exi-codec');

export const skipUnless = (path: string): false | string => (existsSync(path) ? false : `needs ${path} (../shared is absent)`);

export interface CapturePayload {
  readonly schema: 'apphand' | 'din';
  readonly hex: string;
  readonly session: number;
  readonly index: number;
}

const V2GTP_EXI = 0x8001;

/** The EXI payloads of a capture, per TCP session: the first two are the app handshake, the rest DIN 70121. */
export function capturePayloads(file: string): CapturePayload[] {
  const out: CapturePayload[] = [];
  bySession(v2gtpMessages(file)).forEach((msgs, session) => {
    msgs
      .filter((m) => m.payloadType === V2GTP_EXI)
      .forEach((m, index) => out.push({ schema: index < 2 ? 'apphand' : 'din', hex: Buffer.from(m.payload).toString('hex'), session, index }));
  });
  return out;
}

export interface FixturePayload {
  readonly capture: string;
  readonly schema: 'apphand' | 'din';
  readonly hex: string;
}

export function fixturePayloads(): FixturePayload[] {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'capture-payloads.json'), 'utf8')) as FixturePayload[];
}

/** pyPLC's `.decoded.txt`: packets with the hex they decoded and the fields they found. */
export function decodedTxt(file: string): { hex: string; fields: Record<string, string> }[] {
  const text = readFileSync(file, 'utf8');
  const out: { hex: string; fields: Record<string, string> }[] = [];
  const re = /^Packet #\d+ \[[^\]]*\] ([0-9a-f]+) means:\n(\{[\s\S]*?\n\})/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    try {
      out.push({ hex: m[1]!, fields: JSON.parse(m[2]!) as Record<string, string> });
    } catch {
      // a block pyPLC could not print as JSON: nothing to compare
    }
  }
  return out;
}
