/** Reads the committed frame fixtures (one hex frame per line, # comments). */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** test/slac/fixtures, from the compiled test in test/slac/dist/... */
export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const CAPTURE_DIR = fileURLToPath(new URL('../../../../../shared/captures/', import.meta.url));

export interface FrameFixture {
  readonly name: string;
  readonly frames: Buffer[];
}

export function loadFixture(name: string): FrameFixture {
  const text = readFileSync(join(FIXTURE_DIR, `${name}.hex`), 'utf8');
  const frames = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => Buffer.from(l.split(/\s+/).pop()!, 'hex'));
  return { name, frames };
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.hex'))
    .map((f) => f.slice(0, -4))
    .sort();
}
