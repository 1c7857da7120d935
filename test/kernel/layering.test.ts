/**
 * Built-in plugins keep to the plugin API like anyone else's: no import of the kernel
 * (@opensecc/core), in code or in package.json. Libraries that are packages of their own
 * (exi-codec, v2g-pki) are allowed; so are npm packages and Node's modules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const plugins = fileURLToPath(new URL('../../../plugins/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier of import/export … from '…', import('…') and import '…'. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  return found;
}

test('specifiers() finds static, re-export, side-effect and dynamic imports', () => {
  const code = `import { a } from '@opensecc/core/x';\nexport * from './y.js';\nimport 'z';\nconst m = await import('@opensecc/core');\nimport type { T } from "@opensecc/plugin-api";`;
  assert.deepEqual(specifiers(code), ['@opensecc/core/x', './y.js', 'z', '@opensecc/core', '@opensecc/plugin-api']);
});

test('no built-in plugin imports the kernel: only @opensecc/plugin-api and libraries', () => {
  const names = readdirSync(plugins).filter((name) => statSync(join(plugins, name, 'src')).isDirectory());
  assert.ok(names.length >= 7, `found the plugins: ${names.join(', ')}`);
  const offenders: string[] = [];
  for (const name of names) {
    for (const file of sources(join(plugins, name, 'src'))) {
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        if (specifier === '@opensecc/core' || specifier.startsWith('@opensecc/core/')) offenders.push(`${file.slice(plugins.length)}: ${specifier}`);
      }
    }
    const manifest = JSON.parse(readFileSync(join(plugins, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    if (manifest.dependencies?.['@opensecc/core']) offenders.push(`${name}/package.json: depends on @opensecc/core`);
  }
  assert.deepEqual(offenders, []);
});
