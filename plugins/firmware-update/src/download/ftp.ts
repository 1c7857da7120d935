import { createWriteStream } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Client, FTPError } from 'basic-ftp';
import { DownloadError } from './errors.js';
import { progressReporter, type DownloadRequest, type DownloadResult } from './types.js';

/** Download over FTP (ftps: explicit TLS) with basic-ftp; user and password come from the URL. */
export async function downloadFtp(req: DownloadRequest): Promise<DownloadResult> {
  const client = new Client(req.idleTimeoutMs);
  const onAbort = () => client.close();
  req.signal.addEventListener('abort', onAbort, { once: true });
  const path = decodeURIComponent(req.url.pathname);
  try {
    await client.access({
      host: req.url.hostname,
      port: req.url.port ? Number(req.url.port) : 21,
      user: req.url.username ? decodeURIComponent(req.url.username) : 'anonymous',
      password: req.url.password ? decodeURIComponent(req.url.password) : 'anonymous@',
      secure: req.url.protocol === 'ftps:',
      secureOptions: req.extraCa?.length ? { ca: [...rootCertificates, ...req.extraCa] } : undefined,
    });
    let total: number | undefined;
    try {
      total = await client.size(path);
    } catch (error) {
      // 550 on SIZE is how most servers say the file does not exist.
      if (error instanceof FTPError && error.code === 550) throw new DownloadError(`FTP server: ${error.message}`);
      total = undefined;
    }
    await req.onSize(total);
    const report = progressReporter(total, req.onProgress);
    report(0);
    client.trackProgress((info) => report(info.bytes));
    const out = createWriteStream(req.dest);
    await client.downloadTo(out, path);
    client.trackProgress();
    const bytes = out.bytesWritten;
    if (total !== undefined && bytes < total) throw new DownloadError(`connection closed after ${bytes} of ${total} bytes`);
    return { bytes };
  } catch (error) {
    if (req.signal.aborted) throw new DownloadError('download aborted', { cause: error });
    if (error instanceof DownloadError) throw error;
    const text = error instanceof FTPError ? `FTP server: ${error.message}` : (error as Error).message;
    throw new DownloadError(`FTP download failed: ${text}`, { cause: error });
  } finally {
    req.signal.removeEventListener('abort', onAbort);
    client.close();
  }
}
