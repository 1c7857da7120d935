/**
 * `secc exi decode|encode --schema S`: EXI <-> JSON for the V2G schemas, one item per line.
 */
import { createInterface } from 'node:readline';
import { decode, encode, fromHex, toHex, isSchemaName, loadSchema, ExiError, SCHEMA_NAMES } from '@opensecc/exi-codec';
import { UsageError, type CliCommand, type CliIO } from '../command.js';

const USAGE = 'secc exi decode|encode --schema S [HEX...]';
const HELP = `${USAGE}

  decode   HEX arguments, or one hex string per stdin line: one JSON document per line
  encode   one JSON document per stdin line: one lowercase hex line per document

  --schema S   ${SCHEMA_NAMES.join(', ')}

A line that fails prints {"error": "...", "at": "..."} on its own line; the others go on,
and the exit code is 1 at the end.`;

function errorLine(e: unknown): string {
  if (e instanceof ExiError) return JSON.stringify({ error: `${e.kind}: ${e.reason}`, at: `${e.path || '/'} (bit ${e.bitOffset})` });
  return JSON.stringify({ error: String((e as Error)?.message ?? e), at: 'input' });
}

async function* inputLines(args: string[], io: CliIO): AsyncGenerator<string> {
  if (args.length > 0) {
    yield* args;
    return;
  }
  const rl = createInterface({ input: io.stdin, crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

export const exiCommand: CliCommand = {
  name: 'exi',
  summary: 'decode EXI (hex) to JSON documents, or encode them back',
  help: HELP,
  async run(args: string[], io: CliIO): Promise<number> {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const [op, ...rest] = args;
    if (op !== 'decode' && op !== 'encode') throw new UsageError(op ? `unknown exi operation "${op}"` : 'missing operation (decode or encode)');
    let schema: string | undefined;
    const positional: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '--schema') schema = rest[++i];
      else if (a.startsWith('--schema=')) schema = a.slice('--schema='.length);
      else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
      else positional.push(a);
    }
    if (!schema) throw new UsageError('--schema is required');
    if (!isSchemaName(schema)) throw new UsageError(`unknown schema "${schema}" (one of ${SCHEMA_NAMES.join(', ')})`);
    if (op === 'encode' && positional.length > 0) throw new UsageError('encode reads JSON documents from stdin, one per line');
    await loadSchema(schema); // the ISO 15118-20 codecs load on demand
    let failed = false;
    for await (const raw of inputLines(positional, io)) {
      const line = raw.trim();
      if (!line) continue;
      try {
        const out = op === 'decode' ? JSON.stringify(decode(schema, fromHex(line))) : toHex(encode(schema, parseJson(line)));
        io.stdout.write(`${out}\n`);
      } catch (e) {
        failed = true;
        io.stdout.write(`${errorLine(e)}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    throw new ExiError('invalid-value', 0, `not JSON: ${(e as Error).message}`);
  }
}
