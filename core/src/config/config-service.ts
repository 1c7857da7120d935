import { readFile } from 'node:fs/promises';
import { readFileSync, existsSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { JSONSchema } from '@opensecc/plugin-api';
import { watch, type FSWatcher } from 'chokidar';
import { kernelConfigSchema } from './kernel-schema.js';
import { ConfigError, parseJsonDocument, type ConfigProblem } from './errors.js';
import { deepClone, getPointer, mergeConfig } from './merge.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { EffectiveConfig } from './types.js';

interface SectionSchema {
  readonly owner: string;
  /** JSON pointer of the section, e.g. '/plugins/mqtt-api/config'. */
  readonly pointer: string;
  readonly validate: ValidateFunction;
}

export interface ConfigServiceOptions {
  /** The shipped defaults (config/default.json). */
  defaultsFile: string;
  /** The operator's file, layered over the defaults; watched for live changes. Optional. */
  userFile?: string;
  /** Settings the command line forces (e.g. `--control can`), layered over both files. */
  overlay?: unknown;
}

export interface ConfigChange {
  readonly previous: EffectiveConfig;
  readonly current: EffectiveConfig;
}

/**
 * Loads, validates, watches and persists the configuration. A candidate config (from a file edit
 * or a persisted setting) is validated as a whole against the kernel schema and every registered
 * section schema; only a valid one replaces the running config, so a broken edit changes nothing.
 */
export class ConfigService extends EventEmitter<{ change: [ConfigChange]; rejected: [ConfigError] }> {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true });
  private readonly validateKernel: ValidateFunction;
  private readonly sections = new Map<string, SectionSchema>();
  private defaults: unknown = {};
  private user: unknown = {};
  private effective!: EffectiveConfig;
  private watcher: FSWatcher | undefined;

  constructor(private readonly options: ConfigServiceOptions) {
    super();
    this.validateKernel = this.ajv.compile(kernelConfigSchema);
  }

  get current(): EffectiveConfig {
    return this.effective;
  }

  get userFile(): string | undefined {
    return this.options.userFile;
  }

  /** Read both layers and validate. Throws ConfigError naming file, path and reason. */
  loadSync(): EffectiveConfig {
    this.defaults = parseJsonDocument(readFileSync(this.options.defaultsFile, 'utf8'), this.options.defaultsFile);
    const userFile = this.options.userFile;
    if (userFile !== undefined) {
      if (!existsSync(userFile)) throw new ConfigError([{ file: userFile, path: '', reason: 'file does not exist' }]);
      this.user = parseJsonDocument(readFileSync(userFile, 'utf8'), userFile);
    }
    this.effective = this.check(this.defaults, this.user);
    return this.effective;
  }

  /**
   * Add the schema of a config section (a plugin's config). The running config is checked
   * against it at once; a failure throws and the section stays unregistered.
   */
  registerSection(owner: string, pointer: string, schema: JSONSchema): unknown {
    const section: SectionSchema = { owner, pointer, validate: this.ajv.compile(schema) };
    const data = this.sectionData(this.effective, pointer);
    const problems = this.problemsFor(section, data, this.user);
    if (problems.length) throw new ConfigError(problems);
    this.sections.set(owner, section);
    return data;
  }

  unregisterSection(owner: string): void {
    this.sections.delete(owner);
  }

  /** The validated value of a section with its schema's defaults applied. */
  section<T = unknown>(pointer: string): T {
    return getPointer(this.effective, pointer) as T;
  }

  /** Start watching the operator's file; valid edits apply live, invalid ones are rejected. */
  async watch(): Promise<void> {
    const file = this.options.userFile;
    if (!file || this.watcher) return;
    const watcher = watch(file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 } });
    this.watcher = watcher;
    const reload = () => void this.reloadUserFile();
    watcher.on('change', reload).on('add', reload);
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = undefined;
  }

  /** Re-read the operator's file; returns whether it was applied. */
  async reloadUserFile(): Promise<boolean> {
    const file = this.options.userFile;
    if (!file) return false;
    try {
      const user = parseJsonDocument(await readFile(file, 'utf8'), file);
      this.apply(user);
      return true;
    } catch (error) {
      if (error instanceof ConfigError) {
        this.emit('rejected', error);
        return false;
      }
      throw error;
    }
  }

  /**
   * Change persisted settings: the mutator edits a copy of the operator's document, which is
   * validated, written atomically and applied. Throws ConfigError and writes nothing if invalid.
   */
  async persist(mutate: (userDocument: Record<string, unknown>) => void): Promise<void> {
    const file = this.options.userFile;
    if (!file) throw new Error('no operator config file to persist into (start with --config PATH)');
    const next = deepClone((this.user ?? {}) as Record<string, unknown>);
    mutate(next);
    this.check(this.defaults, next);
    await writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n');
    this.apply(next);
  }

  /** Validate a standalone file as `secc config validate` does (with the sections registered so far). */
  validateDocument(document: unknown, file: string): ConfigProblem[] {
    try {
      this.check(this.defaults, document, file);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
  }

  /** Load only the defaults (no operator file): used by the CLI validator. */
  loadDefaultsSync(): void {
    this.defaults = parseJsonDocument(readFileSync(this.options.defaultsFile, 'utf8'), this.options.defaultsFile);
    this.effective = this.check(this.defaults, {});
  }

  private apply(user: unknown): void {
    const current = this.check(this.defaults, user);
    const previous = this.effective;
    this.user = user;
    this.effective = current;
    this.emit('change', { previous, current });
  }

  private check(defaults: unknown, user: unknown, userFileName = this.options.userFile ?? '(config)'): EffectiveConfig {
    const merged = deepClone(mergeConfig(mergeConfig(defaults, user ?? {}), this.options.overlay ?? {})) as Record<string, unknown>;
    const problems: ConfigProblem[] = [];
    if (!this.validateKernel(merged)) {
      problems.push(...this.toProblems(this.validateKernel.errors ?? [], '', user, userFileName));
    }
    for (const section of this.sections.values()) {
      problems.push(...this.problemsFor(section, this.sectionData(merged, section.pointer), user, userFileName));
    }
    if (problems.length) throw new ConfigError(problems);
    return merged as unknown as EffectiveConfig;
  }

  private problemsFor(section: SectionSchema, data: unknown, user: unknown, userFileName = this.options.userFile ?? '(config)'): ConfigProblem[] {
    if (section.validate(data)) return [];
    return this.toProblems(section.validate.errors ?? [], section.pointer, user, userFileName);
  }

  /** The section object inside a merged document, created empty if absent so defaults land in it. */
  private sectionData(document: unknown, pointer: string): unknown {
    const keys = pointer.slice(1).split('/');
    let node = document as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1]!;
    if (node[last] === undefined) node[last] = {};
    return node[last];
  }

  /** Blame the operator's file when it sets the offending value, else the defaults file. */
  private toProblems(errors: ErrorObject[], prefix: string, user: unknown, userFileName: string): ConfigProblem[] {
    return errors.map((error) => {
      const path = prefix + error.instancePath;
      const extra = error.keyword === 'additionalProperties' ? ` '${String(error.params.additionalProperty)}'` : '';
      const allowed = error.keyword === 'enum' ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : '';
      const fromUser = getPointer(user, path) !== undefined || path === '';
      return { file: fromUser ? userFileName : this.options.defaultsFile, path, reason: `${error.message ?? 'invalid'}${extra}${allowed}` };
    });
  }
}
