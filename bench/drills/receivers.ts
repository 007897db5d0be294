import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup';

export interface Receipt {
  /** First receipt (epoch ms). */
  first: number;
  /** Every receipt, the first included. */
  count: number;
}

/**
 * Loopback back-channel endpoints for the drills: a few keep-alive HTTP servers, one path per
 * client, every request answered 204 at once. Each logout token's payload is decoded (not
 * verified) and every receipt of each (client, sub) is counted, so losses and duplicates can be
 * told apart (bench/receivers.ts keeps only the first receipt and one total of repeats).
 */
export class DrillReceivers {
  /** `${clientId} ${sub}` → receipts. */
  readonly receipts = new Map<string, Receipt>();
  requests = 0;
  /** Requests without a readable logout token. */
  unreadable = 0;
  private servers: Server[] = [];
  private bases: string[] = [];

  static async start(count: number): Promise<DrillReceivers> {
    const pool = new DrillReceivers();
    onCleanup('receivers', () => pool.close());
    for (let i = 0; i < count; i++) {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const at = Date.now();
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

  static key(clientId: string, sub: string): string {
    return `${clientId} ${sub}`;
  }

  uriFor(n: number, clientId: string): string {
    return `${this.bases[n % this.bases.length]}/bc/${clientId}`;
  }

  reset(): void {
    this.receipts.clear();
    this.requests = 0;
    this.unreadable = 0;
  }

  private record(path: string, body: string, at: number): void {
    this.requests++;
    const clientId = path.slice('/bc/'.length);
    let sub = '';
    try {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      sub = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub ?? '';
    } catch {
      sub = '';
    }
    if (!sub) {
      this.unreadable++;
      return;
    }
    const key = DrillReceivers.key(clientId, sub);
    const r = this.receipts.get(key);
    if (r) r.count++;
    else this.receipts.set(key, { first: at, count: 1 });
  }

  async close(): Promise<void> {
    for (const s of this.servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}
