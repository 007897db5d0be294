import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The `logout_token` form field, if any. */
  logoutToken: string | null;
  at: number;
}

/** What the receiver does with the next request to a path: answer, or never answer. */
export type Reply = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

/**
 * A scripted back-channel endpoint on loopback: records every request per path and answers
 * with the queued replies, then with the default reply (204).
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly script = new Map<string, Reply[]>();
  private readonly defaults = new Map<string, Reply>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly inFlight = new Map<string, number>();
  /** Most requests to one path in flight at the same time. */
  readonly maxInFlight = new Map<string, number>();
  private server!: Server;
  url = '';

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    r.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const body = Buffer.concat(chunks).toString('utf8');
        const logoutToken = new URLSearchParams(body).get('logout_token');
        r.requests.push({ path, headers: req.headers, body, logoutToken, at: Date.now() });
        const now = (r.inFlight.get(path) ?? 0) + 1;
        r.inFlight.set(path, now);
        r.maxInFlight.set(path, Math.max(now, r.maxInFlight.get(path) ?? 0));
        res.on('close', () => r.inFlight.set(path, (r.inFlight.get(path) ?? 1) - 1));
        const reply = r.script.get(path)?.shift() ?? r.defaults.get(path) ?? { status: 204 };
        if (reply === 'hang') {
          r.hanging.add(res);
          return;
        }
        const send = () => res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
    r.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  /** Queues replies for the next requests to `path`. */
  reply(path: string, ...replies: Reply[]): void {
    this.script.set(path, [...(this.script.get(path) ?? []), ...replies]);
  }

  /** The reply once the queue for `path` is empty. */
  setDefault(path: string, reply: Reply): void {
    this.defaults.set(path, reply);
  }

  received(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
