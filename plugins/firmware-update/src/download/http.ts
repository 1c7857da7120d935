import { createWriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { rootCertificates } from 'node:tls';
import { DownloadError } from './errors.js';
import { progressReporter, type ConnectionOptions, type DownloadRequest, type DownloadResult } from './types.js';

const MAX_REDIRECTS = 5;

/**
 * GET a URL to a file with node's http/https (fetch refuses URLs with credentials, which the seed
 * requires: http://user:pass@host/file). Redirects are followed; a body shorter than its
 * Content-Length is a failure, not a truncated firmware file.
 */
export async function downloadHttp(req: DownloadRequest): Promise<DownloadResult> {
  const response = await openFollowingRedirects(req.url, 'GET', req);
  const lengthHeader = response.headers['content-length'];
  const total = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  try {
    await req.onSize(total);
  } catch (error) {
    response.destroy();
    throw error;
  }
  const report = progressReporter(total, req.onProgress);
  report(0);
  const out = createWriteStream(req.dest);
  let received = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        response.destroy();
        reject(error);
      };
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!out.write(chunk)) {
          response.pause();
          out.once('drain', () => response.resume());
        }
        report(received);
      });
      response.on('aborted', () => fail(cut(received, total)));
      response.on('error', (error) => fail(new DownloadError(`connection error after ${received} bytes: ${error.message}`, { cause: error })));
      response.on('end', () => {
        if (total !== undefined && received < total) fail(cut(received, total));
        else resolve();
      });
      response.on('close', () => {
        if (!response.complete) fail(cut(received, total));
      });
      out.on('error', (error) => fail(new DownloadError(`cannot write ${req.dest}: ${error.message}`, { cause: error })));
    });
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  return { bytes: received };
}

/** HEAD request: the "simple access test" the seed does before handing a casync URL to rauc. */
export async function probeHttp(url: URL, conn: ConnectionOptions): Promise<void> {
  const response = await openFollowingRedirects(url, 'HEAD', conn);
  response.resume();
}

function cut(received: number, total: number | undefined): DownloadError {
  const of = total === undefined ? '' : ` of ${total}`;
  return new DownloadError(`connection closed after ${received}${of} bytes`);
}

async function openFollowingRedirects(
  url: URL,
  method: 'GET' | 'HEAD',
  conn: ConnectionOptions,
): Promise<IncomingMessage> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await open(current, method, conn);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      const next = new URL(response.headers.location, current);
      // Credentials stay with the host they were given for.
      if (next.host === current.host && !next.username) {
        next.username = current.username;
        next.password = current.password;
      }
      current = next;
      continue;
    }
    if (status !== 200) {
      response.resume();
      throw new DownloadError(`server answered HTTP ${status} ${response.statusMessage ?? ''}`.trim());
    }
    return response;
  }
  throw new DownloadError(`more than ${MAX_REDIRECTS} redirects`);
}

function open(url: URL, method: 'GET' | 'HEAD', conn: ConnectionOptions): Promise<IncomingMessage> {
  const { signal, idleTimeoutMs } = conn;
  const options: RequestOptions & HttpsRequestOptions = {
    method,
    signal,
    timeout: idleTimeoutMs,
    headers: { 'user-agent': 'opensecc-firmware-update' },
  };
  if (url.protocol === 'https:' && conn.extraCa?.length) options.ca = [...rootCertificates, ...conn.extraCa];
  if (url.username || url.password) {
    options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  }
  const target = new URL(url);
  target.username = '';
  target.password = '';
  const requester = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = requester(target, options, resolve);
    request.on('timeout', () => request.destroy(new DownloadError(`no data from ${target.host} for ${idleTimeoutMs / 1000} s`)));
    request.on('error', (error) =>
      reject(error instanceof DownloadError ? error : new DownloadError(`cannot connect to ${target.host}: ${error.message}`, { cause: error })),
    );
    request.end();
  });
}
