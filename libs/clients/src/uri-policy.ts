import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AddressPolicy } from './address-policy';

export const MAX_URI_LENGTH = 2000;

export interface UriRules {
  /** Local development: plain http allowed everywhere. Otherwise only https (and http to loopback). */
  isLocal: boolean;
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Checks an absolute http(s) URI as a client may register it. Returns a problem description or null.
 * Refuses: relative URIs, other schemes (javascript:, data:, ...), fragments, credentials in the URI,
 * whitespace or control characters, and plain http outside local development except to loopback.
 */
export function uriProblem(raw: unknown, rules: UriRules): string | null {
  if (typeof raw !== 'string' || raw.length === 0) return 'must be a non-empty string';
  if (raw.length > MAX_URI_LENGTH) return `must be at most ${MAX_URI_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f\\]/.test(raw)) return 'must not contain whitespace, control characters or backslashes';
  if (raw.includes('#')) return 'must not contain a fragment (#)';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URI';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `scheme ${url.protocol.replace(':', '')} is not allowed; use https`;
  if (!raw.toLowerCase().startsWith(`${url.protocol}//`)) return 'must be an absolute URI with an authority (scheme://host)';
  if (url.username || url.password) return 'must not contain user information (user@host)';
  if (!url.hostname) return 'must name a host';
  if (url.protocol === 'http:' && !rules.isLocal && !isLoopbackHost(url.hostname)) {
    return 'must use https (plain http is allowed only for loopback outside local development)';
  }
  return null;
}

/** A web origin: scheme://host[:port] and nothing else. */
export function originProblem(raw: unknown, rules: UriRules): string | null {
  const problem = uriProblem(raw, rules);
  if (problem) return problem;
  const url = new URL(raw as string);
  if (url.origin !== (raw as string).toLowerCase().replace(/\/$/, '') || (url.pathname !== '/' && url.pathname !== '')) {
    return 'must be an origin (scheme://host[:port]) without path, query or trailing parts';
  }
  return null;
}

export type Resolver = (hostname: string) => Promise<string[]>;

const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => a.address);
};

/**
 * A back-channel URI must also not point at a private, loopback or link-local address unless
 * allow-listed. Names are resolved (2 s budget); a name that does not resolve now is accepted,
 * because the sender checks the resolved address again at connect time.
 */
export async function backchannelUriProblem(
  raw: unknown,
  rules: UriRules,
  policy: AddressPolicy,
  resolve: Resolver = systemResolver,
): Promise<string | null> {
  const problem = uriProblem(raw, rules);
  if (problem) return problem;
  const hostname = new URL(raw as string).hostname.replace(/^\[|\]$/g, '');
  const refusal = `points at a private, loopback or link-local address (${hostname}); such targets need BACKCHANNEL_ALLOWED_HOSTS`;
  if (isIP(hostname)) return policy.isAllowedAddress(hostname) ? null : refusal;
  if (policy.isAllowedName(hostname)) return null;
  if (policy.isPrivateName(hostname)) return refusal;
  let addresses: string[];
  try {
    addresses = await Promise.race([
      resolve(hostname),
      new Promise<string[]>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]);
  } catch {
    return null;
  }
  const blocked = addresses.find((a) => !policy.isAllowedAddress(a));
  return blocked
    ? `resolves to a private, loopback or link-local address (${blocked}); such targets need BACKCHANNEL_ALLOWED_HOSTS`
    : null;
}
