import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/** One back-channel notification the bench waits for: this client, told about this session. */
export interface Expected {
  clientId: string;
  sid: string;
}

/** What a wait for one logout's notifications saw. */
export interface Arrivals {
  /** clientId → arrival time (performance.now() of this process) of its first POST for the sid. */
  at: Map<string, number>;
  /** The clients that were still not told when the deadline passed. */
  missing: string[];
}

/**
 * Loopback back-channel endpoints in the bench process: a few keep-alive HTTP servers, one path
 * per client (`/bc/<client_id>`). Every request is answered 204 at once; the logout token's
 * payload is decoded (not verified) for its `sid`, and the first arrival of each (client, sid) is
 * kept with its time (performance.now(), the clock the logout requests are timed with).
 */
export class NotifyReceivers {
  private readonly arrivals = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly servers: Server[] = [];
  private readonly bases: string[] = [];
  /** Every POST received. */
  requests = 0;
  /** POSTs that repeated a (client, sid) already received. */
  duplicates = 0;
  /** POSTs without a readable logout token carrying a sid. */
  unreadable = 0;

  static async start(count: number): Promise<NotifyReceivers> {
    const pool = new NotifyReceivers();
    for (let i = 0; i < count; i++) {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const at = performance.now();
          res.writeHead(204).end();
          pool.record(req.url ?? '/', Buffer.concat(chunks).toString('utf8'), at);
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
    return `${this.bases[n % this.bases.length]}/bc/${encodeURIComponent(clientId)}`;
  }

  /** When this client was first told about this session, if it was. */
  arrival(clientId: string, sid: string): number | undefined {
    return this.arrivals.get(`${clientId} ${sid}`);
  }

  /** Waits until every expected notification arrived, or until `deadline` (performance.now() time). */
  async waitFor(expected: Expected[], deadline: number): Promise<Arrivals> {
    const missingNow = () => expected.filter((e) => !this.arrivals.has(`${e.clientId} ${e.sid}`));
    for (;;) {
      const missing = missingNow();
      const left = deadline - performance.now();
      if (!missing.length || left <= 0) {
        const at = new Map<string, number>();
        for (const e of expected) {
          const t = this.arrival(e.clientId, e.sid);
          if (t !== undefined) at.set(e.clientId, t);
        }
        return { at, missing: missing.map((e) => e.clientId) };
      }
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
    this.requests++;
    const clientId = decodeURIComponent(path.startsWith('/bc/') ? path.slice('/bc/'.length) : path);
    const token = new URLSearchParams(body).get('logout_token') ?? '';
    let sid = '';
    try {
      sid = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid?: string }).sid ?? '';
    } catch {
      sid = '';
    }
    if (!sid) {
      this.unreadable++;
      return;
    }
    const key = `${clientId} ${sid}`;
    if (this.arrivals.has(key)) {
      this.duplicates++;
      return;
    }
    this.arrivals.set(key, at);
    for (const wake of [...this.waiters]) wake();
  }

  async close(): Promise<void> {
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    this.servers.length = 0;
  }
}
