import { rm } from 'node:fs/promises';
import { downloadFtp } from './ftp.js';
import { downloadHttp, probeHttp } from './http.js';
import { DownloadError } from './errors.js';
import type { ConnectionOptions, DownloadRequest, DownloadResult } from './types.js';

export { DownloadError, redactUrl } from './errors.js';
export type { ConnectionOptions, DownloadRequest, DownloadResult } from './types.js';

export function parseDownloadUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DownloadError(`not a valid URL: '${text}'`);
  }
  if (!['http:', 'https:', 'ftp:', 'ftps:'].includes(url.protocol)) {
    throw new DownloadError(`unsupported URL scheme '${url.protocol.replace(/:$/, '')}' (use http, https, ftp or ftps)`);
  }
  return url;
}

/** Download `req.url` to `req.dest`; on any failure the partial file is removed. */
export async function download(req: DownloadRequest): Promise<DownloadResult> {
  try {
    return req.url.protocol.startsWith('ftp') ? await downloadFtp(req) : await downloadHttp(req);
  } catch (error) {
    await rm(req.dest, { force: true });
    throw error;
  }
}

/** The seed's access test before a casync URL goes to rauc: HEAD for http(s), nothing for ftp. */
export async function probe(url: URL, conn: ConnectionOptions): Promise<void> {
  if (url.protocol === 'http:' || url.protocol === 'https:') await probeHttp(url, conn);
}
