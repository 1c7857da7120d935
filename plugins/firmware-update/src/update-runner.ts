import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@opensecc/plugin-api';
import { InstallError, type UpdateBackend } from './backend/backend.js';
import { ensureSpace, MiB } from './disk-space.js';
import { download, parseDownloadUrl, probe, redactUrl } from './download/index.js';
import type { Reporter } from './reporter.js';
import { isCasyncUrl } from './trials.js';

export interface UpdateRequest {
  readonly url: string;
  readonly maxTrials: number;
  readonly intervalSeconds: number;
}

export interface RunnerOptions {
  readonly backend: UpdateBackend;
  readonly reporter: Reporter;
  readonly log: Logger;
  /** Aborted when the plugin stops: the running update is dropped without a further state. */
  readonly signal: AbortSignal;
  readonly cacheDir: string;
  readonly minFreeSpaceMiB: number;
  readonly idleTimeoutMs: number;
  /** Extra trusted CA certificates (PEM) for HTTPS and FTPS servers. */
  readonly extraCa?: readonly string[];
  /** Runs after every update, before the runner counts as idle again (e.g. publish the slots). */
  readonly onSettled?: () => Promise<void>;
}

/** Download files in the cache carry this suffix, so that leftovers can be found and removed. */
const CACHE_SUFFIX = '.fwdownload';

type AttemptOutcome = { ok: true } | { ok: false; retry: boolean; message: string };

/**
 * One firmware update at a time, as seed 7.5 describes it: full-file URLs are downloaded to the
 * cache and handed to the framework as a file; .raucb URLs are checked with HEAD and handed over as
 * URL, and then the whole installation is what max_trials repeats. No reboot follows.
 */
export class UpdateRunner {
  private running: Promise<void> | undefined;

  constructor(private readonly options: RunnerOptions) {}

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Start an update from a URL; false when another update is still running. */
  startFromUrl(request: UpdateRequest): boolean {
    return this.start(() => this.runUrl(request));
  }

  /** Install a local image (USB); resolves to whether it was installed. */
  async installFile(path: string): Promise<boolean> {
    let installed = false;
    if (!this.start(async () => (installed = await this.runFile(path)))) return false;
    await this.running;
    return installed;
  }

  /** Wait until the running update (if any) has settled. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Remove download leftovers (a download cut by a power loss). */
  async cleanCache(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.options.cacheDir);
    } catch {
      return;
    }
    await Promise.all(names.filter((n) => n.endsWith(CACHE_SUFFIX)).map((n) => rm(join(this.options.cacheDir, n), { force: true })));
  }

  private start(job: () => Promise<unknown>): boolean {
    if (this.running) return false;
    this.running = job()
      .then(() => undefined)
      .catch((error: unknown) => {
        if (!this.options.signal.aborted) this.options.log.error({ err: error }, 'firmware update crashed');
      })
      .then(() => (this.options.signal.aborted ? undefined : this.options.onSettled?.()))
      .catch((error: unknown) => this.options.log.warn({ err: error }, 'after-update step failed'))
      .finally(() => (this.running = undefined));
    return true;
  }

  private async runUrl(request: UpdateRequest): Promise<void> {
    const { reporter, log, signal } = this.options;
    const casync = isCasyncUrl(request.url);
    const shownUrl = redactUrl(request.url);
    log.info({ url: shownUrl, casync, maxTrials: request.maxTrials, interval: request.intervalSeconds }, 'firmware update requested');
    let message = '';
    for (let attempt = 1; attempt <= request.maxTrials; attempt++) {
      reporter.update({ operation: { source: 'mqtt', target: shownUrl, attempt, maxTrials: request.maxTrials }, pendingBoot: undefined });
      const outcome = casync ? await this.attemptCasync(request.url) : await this.attemptFullFile(request.url);
      if (signal.aborted) return;
      if (outcome.ok) {
        await this.recordInstalled();
        reporter.setResult('succeeded', '');
        return;
      }
      message = request.maxTrials > 1 ? `attempt ${attempt} of ${request.maxTrials}: ${outcome.message}` : outcome.message;
      log.warn({ url: shownUrl, attempt }, `firmware update attempt failed: ${outcome.message}`);
      reporter.setMessage(message);
      if (!outcome.retry || attempt === request.maxTrials) break;
      try {
        await sleep(request.intervalSeconds * 1000, undefined, { signal });
      } catch {
        return; // stopped while waiting
      }
    }
    reporter.setResult('failed', message);
  }

  private async runFile(path: string): Promise<boolean> {
    const { reporter } = this.options;
    reporter.update({ operation: { source: 'usb', target: path, attempt: 1, maxTrials: 1 }, pendingBoot: undefined });
    const outcome = await this.install(path);
    if (this.options.signal.aborted) return false;
    if (outcome.ok) {
      await this.recordInstalled();
      reporter.setResult('succeeded', '');
      return true;
    }
    reporter.setResult('failed', outcome.message);
    return false;
  }

  private async attemptFullFile(url: string): Promise<AttemptOutcome> {
    const { reporter, signal, cacheDir } = this.options;
    reporter.setActual('downloading', 0);
    const dest = join(cacheDir, `update-${Date.now()}${CACHE_SUFFIX}`);
    try {
      const parsed = parseDownloadUrl(url);
      await mkdir(cacheDir, { recursive: true });
      const reserve = this.options.minFreeSpaceMiB * MiB;
      await ensureSpace(cacheDir, 0, reserve);
      await download({
        url: parsed,
        dest,
        signal,
        idleTimeoutMs: this.options.idleTimeoutMs,
        extraCa: this.options.extraCa,
        onProgress: (percent) => reporter.setProgress(percent),
        onSize: async (bytes) => {
          if (bytes !== undefined) await ensureSpace(cacheDir, bytes, reserve);
        },
      });
    } catch (error) {
      await rm(dest, { force: true });
      if (signal.aborted) return { ok: false, retry: false, message: 'stopped' };
      reporter.setActual('download-failed');
      return { ok: false, retry: true, message: `download failed: ${(error as Error).message}` };
    }
    try {
      reporter.setActual('download-succeeded', 100);
      // An installation failure (bad signature, incompatible) is not retried: the file would be the same.
      const outcome = await this.install(dest);
      return outcome.ok ? outcome : { ...outcome, retry: false };
    } finally {
      await rm(dest, { force: true });
    }
  }

  private async attemptCasync(url: string): Promise<AttemptOutcome> {
    const { reporter, signal } = this.options;
    reporter.setActual('downloading', 0);
    try {
      await probe(parseDownloadUrl(url), { signal, idleTimeoutMs: this.options.idleTimeoutMs, extraCa: this.options.extraCa });
    } catch (error) {
      if (signal.aborted) return { ok: false, retry: false, message: 'stopped' };
      reporter.setActual('download-failed');
      return { ok: false, retry: true, message: `download failed: ${(error as Error).message}` };
    }
    // Seed 7.5: for casync the download phase is reported although the real download is part of the installation.
    reporter.setActual('download-succeeded', 100);
    const outcome = await this.install(url);
    return outcome.ok ? outcome : { ...outcome, retry: true };
  }

  private async install(source: string): Promise<AttemptOutcome> {
    const { reporter, backend, signal } = this.options;
    reporter.setActual('installing', 0);
    try {
      await backend.install(source, { signal, onProgress: (percent) => reporter.setProgress(percent) });
    } catch (error) {
      if (signal.aborted) return { ok: false, retry: false, message: 'stopped' };
      reporter.setActual('install-failed');
      const text = error instanceof InstallError ? error.message : `installation failed: ${(error as Error).message}`;
      return { ok: false, retry: false, message: text };
    }
    reporter.setActual('install-succeeded', 100);
    return { ok: true };
  }

  /** Remember which slot the next boot should come up in, to tell success from rollback after it. */
  private async recordInstalled(): Promise<void> {
    try {
      const status = await this.options.backend.status();
      const target = status.slots.find((s) => s.bootname === status.primary);
      this.options.reporter.update({
        pendingBoot: { fromSlot: status.booted, targetSlot: status.primary, bundleHash: target?.bundleHash, at: Date.now() },
      });
    } catch (error) {
      this.options.log.warn({ err: error }, 'installed, but the slot status could not be read; rollback detection is off for this update');
    }
  }
}

