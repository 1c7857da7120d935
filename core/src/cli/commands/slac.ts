import { createInterface } from 'node:readline';
import { decodeFrame, frameToJson } from '../../slac/codec.js';
import { UsageError, type CliCommand, type CliIO } from '../command.js';

const HELP = `usage: secc slac decode [HEX ...]

decode   decodes HomePlug AV management frames (SLAC, CM_SET_KEY, Qualcomm vendor messages).
         Each HEX is one whole Ethernet frame, destination MAC first, without FCS; without HEX
         arguments one frame per stdin line is read (blank lines and lines starting with # are
         skipped; spaces and colons inside a frame are ignored).
         Prints one JSON object per frame: mmtype (the numeric MMTYPE), name (e.g.
         CM_SLAC_PARM.REQ), mmv, dst, src and the message's fields (MACs as aa:bb:cc:dd:ee:ff,
         identifiers, keys and RunIDs as lowercase hex, counts as numbers).
         A frame that cannot be decoded prints {"error": "...", "at": "..."} on its own line;
         the others go on, and the exit code is 1 at the end.`;

export const slacCommand: CliCommand = {
  name: 'slac',
  summary: 'decode HomePlug AV / SLAC frames',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'decode') throw new UsageError(sub === undefined ? 'missing subcommand (decode)' : `unknown subcommand '${sub}'`);
    const option = rest.find((a) => a.startsWith('-'));
    if (option) throw new UsageError(`unknown option '${option}'`);
    let failed = false;
    const handle = (text: string, where: string) => {
      if (!decodeOne(text, where, io)) failed = true;
    };
    if (rest.length > 0) {
      rest.forEach((hex, i) => handle(hex, `argument ${i + 1}`));
    } else {
      const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
      let number = 0;
      for await (const line of lines) {
        number++;
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#')) continue;
        handle(trimmed, `line ${number}`);
      }
    }
    return failed ? 1 : 0;
  },
};

/** Decodes one frame and prints its JSON line or an error line; returns whether it decoded. */
function decodeOne(text: string, where: string, io: CliIO): boolean {
  const hex = text.replace(/[\s:]/g, '').replace(/^0x/i, '');
  const bad = hex.search(/[^0-9a-fA-F]/);
  if (bad >= 0) return printError(io, `not hex: '${hex[bad]}'`, `${where}, hex digit ${bad + 1}`);
  if (hex.length % 2 !== 0) return printError(io, `odd number of hex digits (${hex.length})`, where);
  const result = decodeFrame(Buffer.from(hex, 'hex'));
  if (!result.ok) return printError(io, result.error.reason, `${where}, ${result.error.at}`);
  io.stdout.write(JSON.stringify(frameToJson(result.frame)) + '\n');
  return true;
}

function printError(io: CliIO, error: string, at: string): false {
  io.stdout.write(JSON.stringify({ error, at }) + '\n');
  return false;
}
