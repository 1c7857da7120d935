/** Benchmark output as CONTRACTS.md fixes it: with --json one {"name","unit","value"} per line. */
export interface Figure {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

export function report(figures: readonly Figure[], argv = process.argv.slice(2)): void {
  const json = argv.includes('--json');
  for (const figure of figures) {
    const value = Number(figure.value.toFixed(3));
    if (json) process.stdout.write(JSON.stringify({ name: figure.name, unit: figure.unit, value }) + '\n');
    else process.stdout.write(`${figure.name.padEnd(48)} ${String(value).padStart(12)} ${figure.unit}\n`);
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
