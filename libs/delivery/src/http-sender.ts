import type { AddressPolicy } from '@slo/clients';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export type SendResult =
  | { ok: true; statusCode: number; retryAfter: string | null; excerpt: string; durationMs: number }
  | { ok: false; errorClass: string; message: string; durationMs: number };

/** How much of a response body is read (the rest is discarded with the connection) and how much is kept. */
const READ_CAP_BYTES = 64 * 1024;
const EXCERPT_CHARS = 1024;

class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
}

class DeadlineError extends Error {
  readonly code = 'ETIMEDOUT';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
/** The resolver (dns.lookup's signature); replaceable so tests can play a DNS server that lies. */
export type Resolve = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/**
 * The outbound HTTP client of the back channel: pooled keep-alive connections, one deadline for
 * connect + response + body, redirects never followed, the body read only up to a cap, and every
 * connection's resolved address checked against the address policy when it is made, so a name
 * that resolved to a public address at registration cannot later reach an internal host.
 */
export class HttpSender {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(
    private readonly policy: AddressPolicy,
    private readonly resolve: Resolve = dnsLookup as Resolve,
  ) {
    const lookup = this.guardedLookup.bind(this);
    const common = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 512, scheduling: 'lifo' as const, lookup };
    this.agents = { http: new http.Agent(common), https: new https.Agent(common) };
  }

  send(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let settled = false;
      // Set once the request exists; an early refusal settles before there is a timer.
      const timer: { deadline?: NodeJS.Timeout } = {};
      const finish = (r: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer.deadline);
        resolve(r);
      };
      const fail = (err: NodeJS.ErrnoException) =>
        finish({ ok: false, errorClass: errorClassOf(err), message: err.message, durationMs: elapsed() });

      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        return fail(Object.assign(new Error(`invalid URL ${req.url}`), { code: 'EINVALIDURL' }));
      }
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // IP literals never go through lookup: check them here.
      if (isIP(host) && !this.policy.isAllowedAddress(host)) {
        return fail(new BlockedAddressError(`${host} is not a public address`));
      }
      if (!isIP(host) && this.policy.isPrivateName(host)) {
        return fail(new BlockedAddressError(`${host} is a private host name`));
      }
      const transport = url.protocol === 'https:' ? https : http;
      const request = transport.request(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      });
      timer.deadline = setTimeout(
        () => request.destroy(new DeadlineError(`no complete answer within ${req.timeoutMs} ms`)),
        req.timeoutMs,
      );
      request.on('error', fail);
      request.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish({
            ok: true,
            statusCode: res.statusCode ?? 0,
            retryAfter: headerValue(res.headers['retry-after']),
            excerpt: Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS),
            durationMs: elapsed(),
          });
        res.on('data', (chunk: Buffer) => {
          if (size < READ_CAP_BYTES) chunks.push(chunk.subarray(0, READ_CAP_BYTES - size));
          size += chunk.length;
          if (size > READ_CAP_BYTES) {
            // Enough read: drop the connection rather than drain an endless body.
            res.destroy();
            done();
          }
        });
        res.on('end', done);
        res.on('error', (err) => (size > READ_CAP_BYTES ? done() : fail(err)));
      });
      request.end(req.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
    this.resolve(hostname, { ...options }, (err, address, family) => {
      if (err) return callback(err, '');
      const addresses = Array.isArray(address) ? address : [{ address, family }];
      const blocked = addresses.find((a) => !this.policy.isAllowedAddress(a.address));
      if (blocked && !this.policy.isAllowedName(hostname)) {
        return callback(new BlockedAddressError(`${hostname} resolved to ${blocked.address}, which is not a public address`), '');
      }
      callback(null, address as string | LookupAddress[], family);
    });
  }
}

function headerValue(v: string | string[] | undefined): string | null {
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

/** A short, stable name for a transport failure, recorded with the attempt. */
export function errorClassOf(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EBLOCKEDADDRESS':
      return 'blocked_address';
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection_reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns_error';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'EINVALIDURL':
      return 'invalid_url';
    default:
      if (err.code?.startsWith('ERR_TLS') || /CERT|SSL/.test(err.code ?? '')) return 'tls_error';
      if (err.code === 'HPE_INVALID_CONSTANT' || err.code?.startsWith('HPE_')) return 'invalid_response';
      return 'network_error';
  }
}
