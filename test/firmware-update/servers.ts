// Real local servers for the download tests: node:http on 127.0.0.1 and ftp-srv on a loopback port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FtpSrv } from 'ftp-srv';
import { pino } from 'pino';
import { freePort } from '#support/net.js';

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly auth?: string;
}

/** How to answer one path: a file, a 404, a cut in the middle, or a stall in the middle. */
export type Route =
  | { kind: 'file'; file: string; user?: string; password?: string }
  | { kind: 'cut'; file: string; times: number }
  | { kind: 'stall'; file: string }
  /** Every file below a directory (the path is a prefix ending in '/'), e.g. a casync chunk store. */
  | { kind: 'static'; dir: string };

export class TestHttpServer {
  readonly requests: RequestRecord[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly sockets = new Set<Socket>();
  private readonly served = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  /** With `tls`, an HTTPS server with that key and certificate. */
  constructor(private readonly tls?: { key: string; cert: string }) {}

  route(path: string, route: Route): this {
    this.routes.set(path, route);
    return this;
  }

  url(path: string, credentials = ''): string {
    return `${this.tls ? 'https' : 'http'}://${credentials ? credentials + '@' : ''}127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = this.tls ? createHttpsServer(this.tls, handler) : createServer(handler);
    this.server.on(this.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? '', path, auth: req.headers.authorization });
    let route = this.routes.get(path);
    let file = route && 'file' in route ? route.file : undefined;
    for (const [prefix, candidate] of this.routes) {
      if (route || candidate.kind !== 'static' || !prefix.endsWith('/') || !path.startsWith(prefix) || path.includes('..')) continue;
      const below = join(candidate.dir, decodeURIComponent(path.slice(prefix.length)));
      if (existsSync(below) && statSync(below).isFile()) [route, file] = [candidate, below];
    }
    if (!route || file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = readFileSync(file);
    if (route.kind === 'file' && route.user !== undefined) {
      const expected = 'Basic ' + Buffer.from(`${route.user}:${route.password ?? ''}`).toString('base64');
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fw"' }).end();
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const count = (this.served.get(path) ?? 0) + 1;
    this.served.set(path, count);
    if (route.kind === 'cut' && count <= route.times) {
      // Half the promised body, then the connection drops.
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (route.kind === 'stall') {
      res.write(body.subarray(0, body.length >> 1)); // and never more
      return;
    }
    res.end(body);
  }
}

/** A real FTP server (ftp-srv) on 127.0.0.1 serving `root` to one user. */
export class TestFtpServer {
  private server: FtpSrv | undefined;
  port = 0;
  logins = 0;

  constructor(
    private readonly root: string,
    private readonly user: string,
    private readonly password: string,
  ) {}

  url(path: string, user = this.user, password = this.password): string {
    return `ftp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = new FtpSrv({
      url: `ftp://127.0.0.1:${this.port}`,
      pasv_url: '127.0.0.1',
      pasv_min: 40000,
      pasv_max: 40999,
      anonymous: false,
      greeting: 'opensecc test ftp',
      log: pino({ level: 'silent' }),
    });
    this.server.on('login', ({ username, password }, resolve, reject) => {
      this.logins++;
      if (username === this.user && password === this.password) resolve({ root: this.root, cwd: '/' });
      else reject(new Error('bad credentials'));
    });
    await this.server.listen();
  }

  async close(): Promise<void> {
    await this.server?.close();
  }
}
