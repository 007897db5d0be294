import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

type Upstream = { host: string; port: number };

/**
 * A loopback load balancer for tests that run several instances of one app: each new TCP
 * connection goes to the next upstream in turn (round robin), skipping upstreams that refuse
 * it; a connection every upstream refuses is closed. It balances connections, not requests, so
 * a client that wants each request to reach the next instance sends `connection: close`.
 */
export class RoundRobinProxy {
  private readonly sockets = new Set<Socket>();
  private readonly served: number[];
  private next = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstreams: Upstream[],
  ) {
    this.served = upstreams.map(() => 0);
  }

  /** A running proxy on an ephemeral loopback port in front of `upstreams` (ports on 127.0.0.1, or hosts and ports). */
  static async start(upstreams: (number | Upstream)[]): Promise<RoundRobinProxy> {
    if (upstreams.length === 0) throw new Error('a round-robin proxy needs at least one upstream');
    const server = createServer();
    const proxy = new RoundRobinProxy(
      server,
      upstreams.map((u) => (typeof u === 'number' ? { host: '127.0.0.1', port: u } : u)),
    );
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>`: the one URL the instances share. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections each upstream took so far, in the order the upstreams were given. */
  connections(): number[] {
    return [...this.served];
  }

  /** Stops listening and drops every open connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  /** Hands `client` to the next upstream that accepts; the client's bytes wait (paused) until then. */
  private accept(client: Socket): void {
    this.track(client);
    const first = this.next;
    this.next = (this.next + 1) % this.upstreams.length;
    const attempt = (tried: number) => {
      if (client.destroyed) return;
      if (tried === this.upstreams.length) {
        client.destroy();
        return;
      }
      const index = (first + tried) % this.upstreams.length;
      const upstream = createConnection(this.upstreams[index]);
      const refused = () => attempt(tried + 1);
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        this.served[index] += 1;
        this.track(upstream);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    attempt(0);
  }
}
