import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { generatePki, isValidEmaid, DEFAULT_EMAID, DEFAULT_PCID, DEFAULT_EVSEID } from '@opensecc/v2g-pki';
import { UsageError, type CliCommand } from '../command.js';

const HELP = `usage: secc pki generate DIR [--emaid EMAID] [--pcid PCID] [--evseid EVSEID] [--force]

Writes a complete ISO 15118-2 test PKI into DIR as PEM files (ECDSA P-256, SHA-256, the
standard's certificate profiles): V2G root, CPO sub-CA 1 and 2, SECC leaf; MO root, sub-CA 1
and 2, contract certificate; OEM root, sub-CA 1 and 2, OEM provisioning certificate; CPS
sub-CA 1 and 2 and CPS leaf (under the V2G root). Private keys are *.key.pem with mode 0600;
chain files (secc-chain.pem, contract-chain.pem, …) hold leaf, sub-CA 2, sub-CA 1; each sub-CA 2
has an empty revocation list (cpo-sub-ca-2.crl.pem, mo-sub-ca-2.crl.pem, …). DIR/README.md
lists every file. FOR TESTS ONLY.

  --emaid EMAID    contract certificate CN (default ${DEFAULT_EMAID})
  --pcid PCID      OEM provisioning certificate CN (default ${DEFAULT_PCID})
  --evseid EVSEID  SECC leaf CN (default ${DEFAULT_EVSEID})
  --force          write into DIR even when it is not empty (overwrites the PKI files)

Exit 0 when written, 1 when DIR is not empty (without --force) or cannot be written, 2 on bad usage.`;

interface Options {
  dir: string;
  emaid?: string;
  pcid?: string;
  evseId?: string;
  force: boolean;
}

function parse(args: string[]): Options {
  const [sub, ...rest] = args;
  if (sub !== 'generate') throw new UsageError(sub === undefined ? 'missing subcommand (generate)' : `unknown subcommand '${sub}'`);
  const opts: Partial<Options> & { force: boolean } = { force: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--force') opts.force = true;
    else if (arg === '--emaid') opts.emaid = value();
    else if (arg === '--pcid') opts.pcid = value();
    else if (arg === '--evseid') opts.evseId = value();
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else if (opts.dir === undefined) opts.dir = arg;
    else throw new UsageError(`unexpected argument '${arg}'`);
  }
  if (opts.dir === undefined) throw new UsageError('missing DIR');
  if (opts.emaid !== undefined && !isValidEmaid(opts.emaid)) throw new UsageError(`--emaid '${opts.emaid}' is not an EMAID (e.g. ${DEFAULT_EMAID}: country 2, provider 3, 'C', instance 8, optional check character)`);
  if (opts.pcid !== undefined && !/^[A-Za-z0-9]{17,18}$/.test(opts.pcid)) throw new UsageError(`--pcid '${opts.pcid}' is not a PCID (17 or 18 letters and digits)`);
  return opts as Options;
}

export const pkiCommand: CliCommand = {
  name: 'pki',
  summary: 'generate a test V2G PKI (ISO 15118-2 certificates and keys)',
  help: HELP,
  async run(args, io) {
    const opts = parse(args);
    const dir = resolve(opts.dir);
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) {
        io.stderr.write(`secc pki: ${dir} exists and is not a directory\n`);
        return 1;
      }
      if (!opts.force && readdirSync(dir).length > 0) {
        io.stderr.write(`secc pki: ${dir} is not empty (use --force to overwrite the PKI files in it)\n`);
        return 1;
      }
    }
    try {
      const layout = await generatePki(dir, { emaid: opts.emaid, pcid: opts.pcid, evseId: opts.evseId });
      io.stdout.write(`test PKI written to ${dir} (EVSEID ${layout.evseId}, EMAID ${layout.emaid}, PCID ${layout.pcid}); see ${layout.readme}\n`);
      return 0;
    } catch (error) {
      io.stderr.write(`secc pki: cannot write ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
      return 1;
    }
  },
};
