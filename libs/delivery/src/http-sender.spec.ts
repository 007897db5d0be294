import { AddressPolicy } from '@slo/clients';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpSender, Resolve } from './http-sender';

/** A DNS server that answers loopback for every name: what a rebinding attacker would arrange. */
const lyingDns: Resolve = (_hostname, options, callback) =>
  options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);

describe('HttpSender', () => {
  let server: Server;
  let base: string;
  let hits = 0;
  const allowLoopback = new HttpSender(new AddressPolicy(['127.0.0.1']));
  const strict = new HttpSender(new AddressPolicy([]), lyingDns);

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/huge') {
        res.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024, 'x');
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        pump();
        return;
      }
      if (req.url === '/hang') return;
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.writeHead(200, { 'retry-after': '7' }).end(`got ${body}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    allowLoopback.close();
    strict.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const send = (sender: HttpSender, url: string, timeoutMs = 1000) =>
    sender.send({ url, headers: { 'content-type': 'text/plain' }, body: 'hello', timeoutMs });

  it('posts the body and returns status, Retry-After and an excerpt of the answer', async () => {
    const r = await send(allowLoopback, `${base}/ok`);
    expect(r).toMatchObject({ ok: true, statusCode: 200, retryAfter: '7', excerpt: 'got hello' });
  });

  it('never follows redirects', async () => {
    const before = hits;
    const r = await send(allowLoopback, `${base}/redirect`);
    expect(r).toMatchObject({ ok: true, statusCode: 302 });
    expect(hits - before).toBe(1);
  });

  it('reads an endless body only up to its cap and keeps a short excerpt', async () => {
    const r = await send(allowLoopback, `${base}/huge`, 5000);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.excerpt.length).toBe(1024);
  });

  it('gives up on an endpoint that never answers at the deadline', async () => {
    const started = Date.now();
    const r = await send(allowLoopback, `${base}/hang`, 300);
    expect(r).toMatchObject({ ok: false, errorClass: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('classifies a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await send(allowLoopback, `http://127.0.0.1:${port}/`)).toMatchObject({ ok: false, errorClass: 'connection_refused' });
  });

  it('connects to what the resolver answered when the policy allows it (the check sits on that path)', async () => {
    const trusting = new HttpSender(new AddressPolicy(['127.0.0.1']), lyingDns);
    try {
      expect(await send(trusting, `http://receiver.example.com:${new URL(base).port}/ok`)).toMatchObject({
        ok: true,
        statusCode: 200,
      });
    } finally {
      trusting.close();
    }
  });

  it.each([
    ['an IPv4 loopback literal', () => `${base}/ok`],
    ['an IPv6 loopback literal', () => `http://[::1]:${new URL(base).port}/ok`],
    ['an IPv4-mapped IPv6 literal', () => `http://[::ffff:127.0.0.1]:${new URL(base).port}/ok`],
    ['the name localhost', () => `http://localhost:${new URL(base).port}/ok`],
    // A public-looking name passes any check at registration; the address is checked when connecting.
    ['a public name that resolves to loopback', () => `http://receiver.example.com:${new URL(base).port}/ok`],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data'],
    ['a decimal-encoded private address', () => 'http://2130706433:80/'],
  ])('refuses %s unless allow-listed, before any byte is sent', async (_what, url) => {
    const before = hits;
    const r = await send(strict, url());
    expect(r).toMatchObject({ ok: false, errorClass: 'blocked_address' });
    expect(hits).toBe(before);
  });

  it.each(['::127.0.0.1', '64:ff9b::7f00:1', '64:ff9b:1::a00:1', '2002:7f00:1::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2'])(
    'refuses a name that resolves into an IPv6 transition range (%s) at connect time',
    async (address) => {
      const transition: Resolve = (_hostname, options, callback) =>
        options.all ? callback(null, [{ address, family: 6 }]) : callback(null, address, 6);
      const sender = new HttpSender(new AddressPolicy([]), transition);
      try {
        const before = hits;
        const r = await send(sender, `http://receiver.example.com:${new URL(base).port}/ok`);
        expect(r).toMatchObject({ ok: false, errorClass: 'blocked_address', message: expect.stringContaining(address) });
        expect(hits).toBe(before);
      } finally {
        sender.close();
      }
    },
  );
});
