#!/usr/bin/env node
// The `secc` command. The code is compiled TypeScript in core/dist (built by `npm ci` via prepare).
import { main } from '@opensecc/core/cli/main';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A handle left open by a library must not keep a finished command alive; an unref'd timer
// fires only if something else is still holding the event loop.
setTimeout(() => process.exit(code), 3000).unref();
