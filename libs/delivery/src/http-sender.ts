import type { AddressPolicy } from '@slo/clients';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent } from 'undici';

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
 * The outbound HTTP client of the back channel, on undici (the HTTP client of Node's own fetch;
 * about half the CPU per request of `node:http` on this path): pooled keep-alive connections, one
 * deadline for connect + response + body, redirects never followed, the body read only up to a
 * cap, and every connection's resolved address checked against the address policy when it is
 * made, so a name that resolved to a public address at registration cannot later reach an
 * internal host.
 */
export class HttpSender {
  private readonly dispatcher: Agent;

  constructor(
    private readonly policy: AddressPolicy,
    private readonly resolve: Resolve = dnsLookup as Resolve,
  ) {
    // `lookup` reaches net.connect / tls.connect through undici's connector.
    const lookup = this.guardedLookup.bind(this);
    this.dispatcher = new Agent({
      connect: { lookup } as Agent.Options['connect'],
      keepAliveTimeout: 30_000,
      // Our own deadline covers the whole exchange; undici's per-phase timeouts stay out of the way.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async send(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const fail = (err: NodeJS.ErrnoException): SendResult => ({
      ok: false,
      errorClass: errorClassOf(err),
      message: err.message,
      durationMs: elapsed(),
    });

    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail(Object.assign(new Error(`invalid URL ${req.url}`), { code: 'EINVALIDURL' }));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
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
    const abort = new AbortController();
    const deadline = setTimeout(
      () => abort.abort(new DeadlineError(`no complete answer within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    try {
      const res = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal: abort.signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (size < READ_CAP_BYTES) chunks.push(chunk.subarray(0, READ_CAP_BYTES - size));
        size += chunk.length;
        if (size > READ_CAP_BYTES) {
          // Enough read: drop the connection rather than drain an endless body.
          res.body.destroy();
          break;
        }
      }
      return {
        ok: true,
        statusCode: res.statusCode,
        retryAfter: headerValue(res.headers['retry-after']),
        excerpt: Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS),
        durationMs: elapsed(),
      };
    } catch (err) {
      if (abort.signal.aborted) return fail(abort.signal.reason as NodeJS.ErrnoException);
      return fail(unwrap(err as NodeJS.ErrnoException));
    } finally {
      clearTimeout(deadline);
    }
  }

  close(): void {
    void this.dispatcher.destroy().catch(() => undefined);
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

/** undici reports socket failures as its own errors with the system error as the cause. */
function unwrap(err: NodeJS.ErrnoException): NodeJS.ErrnoException {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  if (cause && typeof cause === 'object' && cause.code) return cause;
  if (err.code === 'UND_ERR_SOCKET' || err.code === 'UND_ERR_CLOSED') return Object.assign(err, { code: 'ECONNRESET' });
  if (err.code === 'UND_ERR_CONNECT_TIMEOUT') return Object.assign(err, { code: 'ETIMEDOUT' });
  return err;
}

function headerValue(v: string | string[] | undefined): string | null {
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

/** A short, stable name for a transport failure, recorded with the attempt. */
function errorClassOf(err: NodeJS.ErrnoException): string {
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
