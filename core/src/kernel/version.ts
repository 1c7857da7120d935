import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The project's version (root package.json), as published on ci/global/version/charging_software. */
export function softwareVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = pkg.version;
  }
  return cached;
}
