/**
 * The pnc plugin (ISO 15118-2 Plug & Charge): loads the trust stores (V2G, MO, OEM roots) and the
 * SECC's chain and key (private keys with a mode wider than 0600 are refused) and the certificate
 * revocation lists, reloads them when the files change, publishes their validity and expiry warnings, and gives the kernel's ISO 15118-2
 * SECC its Plug & Charge provider (capability 'v2g' → setPncProvider), with certificate
 * installation/update handed to the customer's backend over ci/pnc/certificate_*.
 */
import { dirname } from 'node:path';
import { statSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { definePlugin, type Iso2PncProvider, type PluginContext, type PluginManifest } from '@opensecc/plugin-api';
import { BackendLink } from './backend-link.js';
import { PNC_CONFIG_SCHEMA, resolvePaths, withDefaults, type PncConfig, type PncPaths } from './config.js';
import { certificateEntries, crlEntries, warningMessage } from './expiry.js';
import { loadMaterial, type PncMaterial } from './material.js';
import { PncProvider } from './provider.js';
import { PNC, PNC_TOPICS, type CertificateEntry } from './topics.js';

export { PNC, PNC_TOPICS, type CertificateEntry, type CrlEntry } from './topics.js';
export { PNC_CONFIG_SCHEMA, DEFAULT_PNC_CONFIG, resolvePaths, type PncConfig, type PncPaths } from './config.js';
export { loadMaterial, loadPrivateKey, KeyPermissionError, type LoadedCrl, type PncMaterial } from './material.js';
export { PncProvider } from './provider.js';
export { BackendLink } from './backend-link.js';

export const manifest: PluginManifest = {
  name: 'pnc',
  version: '0.1.0',
  description: 'ISO 15118-2 Plug & Charge: trust stores, SECC certificate and key, expiry warnings, certificate installation/update via the backend (seed 9.9)',
  provides: ['pnc'],
  requires: ['v2g'],
  configSchema: PNC_CONFIG_SCHEMA,
  bus: { read: [PNC.installationResponse, PNC.updateResponse], write: ['ci/pnc/#'] },
  topics: PNC_TOPICS,
};

/** The kernel's V2G service as this plugin sees it. */
interface V2gApi {
  setPncProvider(provider: Iso2PncProvider): () => void;
}

/** What `use('pnc')` returns (and what the tests drive). */
export interface PncApi {
  readonly provider: Iso2PncProvider;
  readonly paths: PncPaths;
  /** The material as last loaded. */
  material(): PncMaterial;
  /** Read the files again and publish the status now. */
  reload(): void;
  /** Evaluate and publish the certificate status (ci/pnc/certificates, ci/pnc/crls, warnings, ci/pnc/status). */
  publishStatus(): CertificateEntry[];
}

class PncPlugin {
  private config: PncConfig;
  private resolved: PncPaths;
  private current: PncMaterial;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private readonly link: BackendLink;
  readonly provider: PncProvider;

  constructor(private readonly ctx: PluginContext<Partial<PncConfig>>) {
    this.config = withDefaults(ctx.config);
    this.resolved = resolvePaths(this.config, ctx.dataDir);
    this.current = loadMaterial(this.resolved);
    this.link = new BackendLink(ctx.bus, ctx.log, () => this.config.backendTimeoutMs);
    this.provider = new PncProvider(() => this.current, this.link, ctx.log);
  }

  async start(): Promise<void> {
    this.link.start();
    this.report();
    await this.watch();
    this.schedule();
    this.ctx.onConfigChange((next) => {
      this.config = withDefaults(next);
      this.resolved = resolvePaths(this.config, this.ctx.dataDir);
      this.reload();
      void this.watch().catch((error: unknown) => this.ctx.log.error({ err: error }, 'watching the certificate files failed'));
      this.schedule();
    });
  }

  async stop(): Promise<void> {
    clearTimeout(this.reloadTimer);
    clearInterval(this.interval);
    this.link.stop();
    await this.watcher?.close();
  }

  get paths(): PncPaths {
    return this.resolved;
  }

  material(): PncMaterial {
    return this.current;
  }

  reload(): void {
    this.current = loadMaterial(this.resolved);
    this.ctx.log.info({ problems: this.current.problems.length }, 'certificates reloaded');
    this.report();
  }

  /** Publish the certificates, a warning per expiring/expired one, and whether Contract is offered. */
  report(): CertificateEntry[] {
    const at = new Date();
    const entries = certificateEntries(this.current, at, this.config.warnBeforeExpiryDays);
    const bus = this.ctx.bus;
    bus.publish(PNC.certificates, entries, { retain: true });
    for (const entry of entries) {
      const message = warningMessage(entry);
      if (!message) continue;
      this.ctx.log.warn({ role: entry.role, file: entry.file, notAfter: entry.notAfter }, message);
      bus.publish(PNC.expiryWarning, { ...entry, message }, { retain: false });
    }
    const crls = crlEntries(this.current, at);
    bus.publish(PNC.crls, crls, { retain: true });
    for (const crl of crls.filter((c) => c.status !== 'valid')) {
      this.ctx.log.warn({ file: crl.file, issuer: crl.issuer, nextUpdate: crl.nextUpdate }, `certificate revocation list ${crl.file} is ${crl.status === 'expired' ? `past its nextUpdate ${crl.nextUpdate}: get a fresh one from its CA` : 'not valid yet'}`);
    }
    for (const problem of this.current.problems) this.ctx.log.error(problem);
    const offer = this.provider.contractOffer(at);
    bus.publish(PNC.status, { contractOffered: offer.ok, ...(offer.ok ? {} : { reason: offer.reason }), problems: [...this.current.problems] }, { retain: true });
    return entries;
  }

  /** Watch the directories holding the material (a file that does not exist yet is picked up when it appears). */
  private watch(): Promise<void> {
    const old = this.watcher;
    const targets = new Set<string>();
    for (const path of this.current.watched) {
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        isDir = false;
      }
      targets.add(isDir ? path : dirname(path));
    }
    const watcher = watch([...targets], { ignoreInitial: true, depth: 0, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 20 } });
    watcher.on('all', (event, path) => {
      if (!/\.(pem|crt|cer|crl|der)$/i.test(path)) return;
      this.ctx.log.debug({ event, path }, 'certificate file changed');
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => this.reload(), 100);
    });
    watcher.on('error', (error) => this.ctx.log.error({ err: error }, 'watching the certificate files failed'));
    this.watcher = watcher;
    void old?.close();
    return new Promise((resolve) => watcher.once('ready', () => resolve()));
  }

  private schedule(): void {
    clearInterval(this.interval);
    this.interval = setInterval(() => this.reload(), this.config.expiryCheckIntervalS * 1000);
    this.interval.unref();
  }
}

export default definePlugin<Partial<PncConfig>, PncApi>({
  manifest,
  async start(ctx) {
    const plugin = new PncPlugin(ctx);
    await plugin.start();
    const unregister = ctx.use<V2gApi>('v2g').setPncProvider(plugin.provider);
    ctx.log.info({ paths: plugin.paths, contractOffered: plugin.provider.contractOffer(new Date()).ok }, 'Plug & Charge provider registered');
    return {
      api: {
        provider: plugin.provider,
        get paths() {
          return plugin.paths;
        },
        material: () => plugin.material(),
        reload: () => plugin.reload(),
        publishStatus: () => plugin.report(),
      },
      async stop() {
        unregister();
        await plugin.stop();
      },
    };
  },
});
