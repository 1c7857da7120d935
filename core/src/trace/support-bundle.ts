import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { arch, platform, release } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigService } from '../config/config-service.js';
import { DEFAULTS_FILE } from '../daemon/paths.js';
import { softwareVersion } from '../kernel/version.js';
import { LOG_FILES, readV2gTrace } from './files.js';
import { DEFAULT_SECRET_KEYS, redactSecrets, scrubText } from './redact.js';
import { tarGz, type TarEntry } from './tar.js';
import { v2gRecordsToPcapng } from './v2g-pcapng.js';

export interface SupportBundleOptions {
  readonly configFile?: string;
  /** The logging directory (default: from the config). */
  readonly logDir: string;
  readonly out: string;
}

export interface SupportBundleResult {
  readonly out: string;
  readonly files: string[];
  readonly redactedValues: number;
}

/**
 * What support asks for (Charge Control M guide 6.2), in one tar.gz: the software version, the
 * effective configuration with secrets redacted, the logs and every trace (plus the V2G trace as
 * pcapng). Secret values found in the config are also scrubbed from the logs and traces.
 */
export async function writeSupportBundle(options: SupportBundleOptions): Promise<SupportBundleResult> {
  const config = new ConfigService({ defaultsFile: DEFAULTS_FILE, userFile: options.configFile ? resolve(options.configFile) : undefined });
  const effective = config.loadSync();
  const extraWords = (effective.plugins.logging?.config as { redactKeys?: unknown } | undefined)?.redactKeys;
  const words = [...DEFAULT_SECRET_KEYS, ...(Array.isArray(extraWords) ? extraWords.filter((w): w is string => typeof w === 'string') : [])];
  const redacted = redactSecrets(effective, words);
  const secrets = [...redacted.secrets];
  const entries: TarEntry[] = [];
  const now = new Date();
  const text = (name: string, content: string) => entries.push({ name, data: Buffer.from(content), mtime: now });

  text('version.json', JSON.stringify({ charging_software: softwareVersion(), node: process.version, os: `${platform()} ${release()} ${arch()}`, created: now.toISOString() }, null, 2) + '\n');
  text('config/effective.json', JSON.stringify(redacted.value, null, 2) + '\n');
  if (options.configFile && existsSync(options.configFile)) {
    try {
      const user = redactSecrets(JSON.parse(readFileSync(options.configFile, 'utf8')) as unknown, words);
      secrets.push(...user.secrets);
      text('config/operator.json', JSON.stringify(user.value, null, 2) + '\n');
    } catch {
      // loadSync() above already validated it; a race with an editor is not worth failing for
    }
  }
  secrets.sort((a, b) => b.length - a.length);

  const statusFile = join(resolve(effective.pluginHost.runDir), 'plugins.json');
  if (existsSync(statusFile)) text('run/plugins.json', scrubText(readFileSync(statusFile, 'utf8'), secrets));

  const dir = options.logDir;
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stats = statSync(path);
      if (!stats.isFile()) continue;
      const folder = name.startsWith(LOG_FILES.log) ? 'logs' : 'traces';
      entries.push({ name: `${folder}/${name}`, data: Buffer.from(scrubText(readFileSync(path, 'utf8'), secrets)), mtime: stats.mtime });
    }
    const v2g = readV2gTrace(dir).records;
    if (v2g.length) entries.push({ name: 'traces/v2g.pcapng', data: v2gRecordsToPcapng(v2g), mtime: now });
  }
  const files = entries.map((e) => e.name);
  text('MANIFEST.json', JSON.stringify({ created: now.toISOString(), logDir: dir, files, note: 'secret values of the config are replaced by [REDACTED] everywhere in this bundle' }, null, 2) + '\n');
  await writeFile(options.out, tarGz(entries));
  return { out: options.out, files: [...files, 'MANIFEST.json'], redactedValues: secrets.length };
}
