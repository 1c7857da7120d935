/**
 * A `secc` subcommand. Each lives in its own module under ./commands and is listed in
 * ./commands/index.ts; main.ts only dispatches and maps errors to exit codes
 * (0 success, 1 operation failed, 2 bad usage with a usage line on stderr).
 */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

export interface CliCommand {
  readonly name: string;
  /** One line for `secc --help`. */
  readonly summary: string;
  /** Full text for `secc <name> --help`; its first line is the usage line. */
  readonly help: string;
  /** Returns the exit code. Throw UsageError for bad arguments. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Bad arguments: main prints the message and the command's usage line and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
