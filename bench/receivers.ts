import { createServer as createHttpServer, Server } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';

/** The receipts of one (client, claim value) pair. */
export interface Receipt {
  /** Time of the first receipt, on the pool's clock. */
  first: number;
  /** Every receipt, the first included. */
  count: number;
}

export interface ReceiverOptions {
  /** The logout token claim receipts are keyed by, with the client id (default `sub`). */
  claim?: 'sub' | 'sid';
  /** The clock of receipt times (default Date.now, epoch ms; bench:logout uses performance.now, its requests' clock). */
  clock?: () => number;
}

/**
 * Loopback back-channel endpoints, shared by bench:fanout, bench:drills and bench:logout: a few
 * keep-alive HTTP servers, one path per client (`/bc/<client_id>`), every request answered 204 at
 * once. While recording, the logout token's payload is decoded (not verified) and every receipt of
 * each (client, claim value) is counted, its first one kept with its time; a token without the
 * claim is only counted as unreadable.
 */
export class ReceiverPool {
  /** `${clientId} ${claim value}` (see `key`) → receipts. */
  readonly receipts = new Map<string, Receipt>();
  /** Receipts that repeated a (client, claim value) already received. */
  duplicates = 0;
  /** Every request, recorded or not. */
  requests = 0;
  /** Recorded requests without a readable logout token carrying the claim. */
  unreadable = 0;
  /** One recorded request body as the sender sent it (the fan-out's plain-client ceiling resends it). */
  sampleBody: string | null = null;
  recording = true;
  private readonly claim: 'sub' | 'sid';
  private readonly clock: () => number;
  private readonly servers: Server[] = [];
  private readonly bases: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(options: ReceiverOptions = {}) {
    this.claim = options.claim ?? 'sub';
    this.clock = options.clock ?? Date.now;
  }

  /** A pool listening on `count` servers. */
  static async start(count: number, options: ReceiverOptions = {}): Promise<ReceiverPool> {
    const pool = new ReceiverPool(options);
    await pool.listen(count);
    return pool;
  }

  /** The key of a (client, claim value) pair in `receipts`. */
  static key(clientId: string, value: string): string {
    return `${clientId} ${value}`;
  }

  /** Starts `count` more servers (`start` does it for a new pool). */
  async listen(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const server = createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const at = this.clock();
          res.writeHead(204).end();
          this.requests++;
          if (this.recording) this.record(req.url ?? '/', Buffer.concat(chunks).toString('utf8'), at);
        });
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.servers.push(server);
      this.bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  }

  /** The back-channel URI of the n-th client (clients are spread over the servers). */
  uriFor(n: number, clientId: string): string {
    return `${this.bases[n % this.bases.length]}/bc/${encodeURIComponent(clientId)}`;
  }

  /** Forgets every receipt and count (recording stays as it is). */
  reset(): void {
    this.receipts.clear();
    this.duplicates = 0;
    this.requests = 0;
    this.unreadable = 0;
    this.sampleBody = null;
  }

  /** Waits until every key has a receipt, or until `deadline` (on the pool's clock); resolves with the keys still missing. */
  async waitFor(keys: string[], deadline: number): Promise<string[]> {
    for (;;) {
      const missing = keys.filter((k) => !this.receipts.has(k));
      const left = deadline - this.clock();
      if (!missing.length || left <= 0) return missing;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  private record(path: string, body: string, at: number): void {
    this.sampleBody ??= body;
    let clientId = '';
    let value = '';
    try {
      clientId = decodeURIComponent(path.startsWith('/bc/') ? path.slice('/bc/'.length) : path);
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
      value = typeof payload[this.claim] === 'string' ? (payload[this.claim] as string) : '';
    } catch {
      value = '';
    }
    if (!value) {
      this.unreadable++;
      return;
    }
    const key = ReceiverPool.key(clientId, value);
    const r = this.receipts.get(key);
    if (r) {
      r.count++;
      this.duplicates++;
      return;
    }
    this.receipts.set(key, { first: at, count: 1 });
    for (const wake of [...this.waiters]) wake();
  }

  async close(): Promise<void> {
    for (const s of this.servers.splice(0)) {
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
