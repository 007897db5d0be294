import { createServer as createHttpServer, Server } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';

/**
 * Loopback back-channel endpoints: a few keep-alive HTTP servers, one path per client. Every
 * request is answered 204 at once; while recording, the logout token's payload is decoded (not
 * verified) and the first receipt of each (client, sub) is kept with its time.
 */
export class ReceiverPool {
  /** `${clientId} ${sub}` → time of the first receipt (epoch ms). */
  readonly receipts = new Map<string, number>();
  /** Requests that repeated a (client, sub) already received. */
  duplicates = 0;
  /** Every request, recorded or not. */
  requests = 0;
  /** One request body as the worker sent it (the plain-client ceiling resends it). */
  sampleBody: string | null = null;
  recording = true;
  private servers: Server[] = [];
  private bases: string[] = [];

  static async start(count: number): Promise<ReceiverPool> {
    const pool = new ReceiverPool();
    for (let i = 0; i < count; i++) {
      const server = createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const at = Date.now();
          res.writeHead(204).end();
          pool.requests++;
          if (pool.recording) pool.record(req.url ?? '/', Buffer.concat(chunks).toString('utf8'), at);
        });
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      pool.servers.push(server);
      pool.bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    return pool;
  }

  /** The back-channel URI of the n-th client. */
  uriFor(n: number, clientId: string): string {
    return `${this.bases[n % this.bases.length]}/bc/${clientId}`;
  }

  reset(): void {
    this.receipts.clear();
    this.duplicates = 0;
    this.requests = 0;
    this.sampleBody = null;
  }

  private record(path: string, body: string, at: number): void {
    const clientId = path.slice('/bc/'.length);
    const token = new URLSearchParams(body).get('logout_token') ?? '';
    let sub = '';
    try {
      sub = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub ?? '';
    } catch {
      sub = '';
    }
    const key = `${clientId} ${sub}`;
    if (this.receipts.has(key)) this.duplicates++;
    else this.receipts.set(key, at);
    this.sampleBody ??= body;
  }

  async close(): Promise<void> {
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

/** One extra endpoint that misbehaves; `requests` counts connections (dead) or requests (slow). */
export interface ExtraEndpoint {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** An endpoint that accepts connections and reads requests but never answers. */
export class DeadEndpoint implements ExtraEndpoint {
  private readonly sockets = new Set<Socket>();
  private server = createTcpServer((socket) => {
    this.sockets.add(socket);
    this.requests++;
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.resume();
  });
  requests = 0;
  url = '';

  static async start(): Promise<DeadEndpoint> {
    const d = new DeadEndpoint();
    await new Promise<void>((resolve) => d.server.listen(0, '127.0.0.1', resolve));
    d.url = `http://127.0.0.1:${(d.server.address() as AddressInfo).port}/bc/dead`;
    return d;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An endpoint that answers 204, but only after `delayMs` (below the delivery timeout: never a failure). */
export class SlowEndpoint implements ExtraEndpoint {
  private server!: Server;
  requests = 0;
  url = '';

  static async start(delayMs: number): Promise<SlowEndpoint> {
    const e = new SlowEndpoint();
    e.server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        e.requests++;
        setTimeout(() => res.writeHead(204).end(), delayMs);
      });
    });
    e.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => e.server.listen(0, '127.0.0.1', resolve));
    e.url = `http://127.0.0.1:${(e.server.address() as AddressInfo).port}/bc/slow`;
    return e;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
