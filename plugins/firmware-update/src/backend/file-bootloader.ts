import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic-file.js';

/**
 * A bootloader whose environment is a JSON file, modelled on barebox's bootchooser as rauc drives
 * it: each slot has remaining boot attempts; `set-primary` makes a slot primary with the default
 * attempts, every boot uses one attempt, `mark-good` restores them and `mark-bad` zeroes them. A slot
 * without attempts is skipped, so a new firmware that is never marked good falls back to the
 * previous slot. It serves the simulated backend and, through `customBackendScript`, real rauc as
 * its "custom" bootloader backend (get-primary, set-primary, get-state, set-state, get-current).
 *
 * The environment is a key=value text file (like a bootloader environment), so that a small shell
 * script can serve rauc without starting node for each of its many calls:
 *   default_attempts=3 / primary=A / current=A / boot_count=1 / slots=A B / remaining_A=3 / remaining_B=0
 */
export interface BootEnv {
  defaultAttempts: number;
  primary: string;
  current: string;
  bootCount: number;
  slots: Record<string, { remaining: number }>;
}

export class FileBootloader {
  constructor(
    readonly envPath: string,
    private readonly initial: { slots?: string[]; defaultAttempts?: number } = {},
  ) {}

  load(): BootEnv {
    const env = this.read();
    if (env) return env;
    const names = this.initial.slots ?? ['A', 'B'];
    const attempts = this.initial.defaultAttempts ?? 3;
    return {
      defaultAttempts: attempts,
      primary: names[0]!,
      current: names[0]!,
      bootCount: 1,
      slots: Object.fromEntries(names.map((n, i) => [n, { remaining: i === 0 ? attempts : 0 }])),
    };
  }

  private read(): BootEnv | undefined {
    let text: string;
    try {
      text = readFileSync(this.envPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const vars = new Map<string, string>();
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) vars.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
    const names = (vars.get('slots') ?? '').split(/\s+/).filter(Boolean);
    const number = (key: string, fallback: number) => {
      const n = Number(vars.get(key));
      return Number.isInteger(n) ? n : fallback;
    };
    if (names.length === 0 || !vars.get('primary')) throw new Error(`bootloader env ${this.envPath}: 'slots' or 'primary' missing`);
    return {
      defaultAttempts: number('default_attempts', 3),
      primary: vars.get('primary')!,
      current: vars.get('current') ?? vars.get('primary')!,
      bootCount: number('boot_count', 1),
      slots: Object.fromEntries(names.map((n) => [n, { remaining: number(`remaining_${n}`, 0) }])),
    };
  }

  private save(env: BootEnv): void {
    const lines = [
      `default_attempts=${env.defaultAttempts}`,
      `primary=${env.primary}`,
      `current=${env.current}`,
      `boot_count=${env.bootCount}`,
      `slots=${Object.keys(env.slots).join(' ')}`,
      ...Object.entries(env.slots).map(([name, slot]) => `remaining_${name}=${slot.remaining}`),
    ];
    writeFileAtomic(this.envPath, lines.join('\n') + '\n');
  }

  private slot(env: BootEnv, name: string): { remaining: number } {
    const slot = env.slots[name];
    if (!slot) throw new Error(`bootloader: unknown slot '${name}' (known: ${Object.keys(env.slots).join(', ')})`);
    return slot;
  }

  /** The slot the next boot starts: the primary while it has attempts, else the first one that has. */
  primary(): string {
    const env = this.load();
    if (this.slot(env, env.primary).remaining > 0) return env.primary;
    return Object.keys(env.slots).find((name) => env.slots[name]!.remaining > 0) ?? env.primary;
  }

  setPrimary(name: string): void {
    const env = this.load();
    this.slot(env, name).remaining = env.defaultAttempts;
    env.primary = name;
    this.save(env);
  }

  state(name: string): 'good' | 'bad' {
    return this.slot(this.load(), name).remaining > 0 ? 'good' : 'bad';
  }

  setState(name: string, state: 'good' | 'bad'): void {
    const env = this.load();
    this.slot(env, name).remaining = state === 'good' ? env.defaultAttempts : 0;
    this.save(env);
  }

  current(): string {
    return this.load().current;
  }

  /** Simulate a (re)boot: choose a slot as the bootloader would and use one of its attempts. */
  boot(): string {
    const chosen = this.primary();
    const env = this.load();
    const slot = this.slot(env, chosen);
    if (slot.remaining > 0) slot.remaining -= 1;
    env.current = chosen;
    env.bootCount += 1;
    this.save(env);
    return chosen;
  }

  /** Write the environment file now (so that external tools see it). */
  init(): void {
    this.save(this.load());
  }

  /** rauc's custom bootloader backend protocol; returns what to print. */
  command(args: readonly string[]): string {
    const [command, name, state] = args;
    switch (command) {
      case 'get-primary':
        return this.primary();
      case 'set-primary':
        this.setPrimary(required(name, command));
        return '';
      case 'get-state':
        return this.state(required(name, command));
      case 'set-state':
        if (state !== 'good' && state !== 'bad') throw new Error(`set-state: state must be good or bad, not '${state}'`);
        this.setState(required(name, command), state);
        return '';
      case 'get-current':
        return this.current();
      default:
        throw new Error(`unknown bootloader command '${command ?? ''}'`);
    }
  }
}

function required(value: string | undefined, command: string): string {
  if (!value) throw new Error(`${command}: slot name missing`);
  return value;
}

/**
 * A POSIX shell script that serves rauc's custom bootloader backend protocol on the same env file
 * with the same rules as FileBootloader (for test systems that run real rauc on file-backed slots).
 */
export function customBackendScript(envPath: string): string {
  const quoted = `'${envPath.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh
# rauc custom bootloader backend over a FileBootloader env file (see file-bootloader.ts)
ENV=${quoted}
get() { sed -n "s/^$1=//p" "$ENV"; }
put() { grep -v "^$1=" "$ENV" > "$ENV.tmp.$$"; echo "$1=$2" >> "$ENV.tmp.$$"; mv "$ENV.tmp.$$" "$ENV"; }
remaining() { r=$(get "remaining_$1"); echo "\${r:-0}"; }
known() { for s in $(get slots); do [ "$s" = "$1" ] && return 0; done; echo "unknown slot '$1'" >&2; exit 1; }
primary() {
  p=$(get primary)
  if [ "$(remaining "$p")" -gt 0 ]; then echo "$p"; return; fi
  for s in $(get slots); do if [ "$(remaining "$s")" -gt 0 ]; then echo "$s"; return; fi; done
  echo "$p"
}
case "$1" in
  get-primary) primary ;;
  set-primary) known "$2"; put "remaining_$2" "$(get default_attempts)"; put primary "$2" ;;
  get-state) known "$2"; if [ "$(remaining "$2")" -gt 0 ]; then echo good; else echo bad; fi ;;
  set-state) known "$2"
    case "$3" in good) put "remaining_$2" "$(get default_attempts)" ;; bad) put "remaining_$2" 0 ;; *) echo "state must be good or bad" >&2; exit 1 ;; esac ;;
  get-current) get current ;;
  *) echo "unknown command '$1'" >&2; exit 1 ;;
esac
`;
}
