#!/usr/bin/env node
// Runs every compiled test (test/**/dist/**/*.test.js) with node's test runner.
// Node 20's `node --test` takes no globs, so the files are collected here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const testRoot = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv.slice(2);

function collect(dir, inDist, out) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) collect(path, inDist || entry === 'dist', out);
    else if (inDist && entry.endsWith('.test.js')) out.push(path);
  }
  return out;
}

let files = collect(testRoot, false, []).sort();
if (filter.length) files = files.filter((f) => filter.some((word) => relative(testRoot, f).includes(word)));
if (files.length === 0) {
  console.error('no test files found (did `tsc -b` run?)');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
