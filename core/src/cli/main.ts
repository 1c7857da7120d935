import { COMMANDS } from './commands/index.js';
import { UsageError, type CliIO } from './command.js';
import { softwareVersion } from '../kernel/version.js';

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: secc <command> [options]',
    '',
    'OpenSECC charge controller. Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'secc <command> --help' for a command's options.",
  ].join('\n');
}

/** Dispatch argv to a command; returns the process exit code (0 ok, 1 failed, 2 bad usage). */
/** A closed pipe (`secc mqtt topics | head`) ends the command quietly, as Unix tools do. */
function exitQuietlyOnBrokenPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

export async function main(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  if (io.stdout === process.stdout) exitQuietlyOnBrokenPipe(process.stdout);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(overview() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(softwareVersion() + '\n');
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`secc: unknown command '${name}'\n${overview()}\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.help + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`secc ${command.name}: ${error.message}\n${command.help.split('\n')[0]}\n`);
      return 2;
    }
    io.stderr.write(`secc ${command.name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
