/** One reason a config was refused, with where: the file, the JSON pointer inside it, the reason. */
export interface ConfigProblem {
  readonly file: string;
  /** JSON pointer into the document, '' for the whole document. */
  readonly path: string;
  readonly reason: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}: ${problem.path === '' ? '(document)' : problem.path}: ${problem.reason}`;
}

/** JSON.parse, but a syntax error becomes a ConfigProblem with line and column. */
export function parseJsonDocument(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset).split('\n');
      where = ` (line ${before.length}, column ${before[before.length - 1]!.length + 1})`;
    }
    throw new ConfigError([{ file, path: '', reason: `not valid JSON${where}: ${message}` }]);
  }
}
