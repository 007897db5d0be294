/**
 * The parsers of the settings tables (settings/): each turns one raw string into a typed value or
 * returns an error message.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

export const str =
  (opts: { minLength?: number } = {}) =>
  (raw: string): Parsed<string> =>
    opts.minLength && raw.length < opts.minLength ? fail(`must be at least ${opts.minLength} characters long`) : ok(raw);

export const oneOf =
  <T extends string>(...values: T[]) =>
  (raw: string): Parsed<T> =>
    (values as string[]).includes(raw) ? ok(raw as T) : fail(`must be one of ${values.join(', ')}`);

export const int =
  (min: number, max: number) =>
  (raw: string): Parsed<number> => {
    if (!/^-?\d+$/.test(raw)) return fail('must be an integer');
    const n = Number(raw);
    return n < min || n > max ? fail(`must be between ${min} and ${max}`) : ok(n);
  };

/** `false`/`true` (one proxy) or a number of proxy hops to trust, 0–10. */
export const proxyHops = (raw: string): Parsed<number> => {
  const flag = bool(raw);
  if (flag.ok && !/^\d+$/.test(raw)) return ok(flag.value ? 1 : 0);
  return /^\d+$/.test(raw) && Number(raw) <= 10 ? ok(Number(raw)) : fail('must be true, false or a number of proxies (0-10)');
};

export const bool = (raw: string): Parsed<boolean> => {
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return ok(true);
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return ok(false);
  return fail('must be true or false');
};

export const url =
  (...protocols: string[]) =>
  (raw: string): Parsed<string> => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return fail('must be an absolute URL');
    }
    if (!protocols.includes(parsed.protocol)) {
      return fail(`must use ${protocols.map((p) => p.replace(':', '')).join(' or ')}`);
    }
    return ok(raw.replace(/\/+$/, ''));
  };

export const list =
  <T>(item: (raw: string) => Parsed<T>, opts: { min?: number } = {}) =>
  (raw: string): Parsed<T[]> => {
    const parts = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (opts.min && parts.length < opts.min) return fail(`must list at least ${opts.min} value(s)`);
    const out: T[] = [];
    for (const [i, part] of parts.entries()) {
      const r = item(part);
      if (!r.ok) return fail(`item ${i + 1} ${r.error}`);
      out.push(r.value);
    }
    return ok(out);
  };

export const base64Key =
  (bytes: number) =>
  (raw: string): Parsed<Buffer> => {
    const buf = Buffer.from(raw, 'base64');
    return buf.length === bytes && /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)
      ? ok(buf)
      : fail(`must be ${bytes} random bytes, base64-encoded (openssl rand -base64 ${bytes})`);
  };

interface HostPort {
  host: string;
  port: number;
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * A comma-separated list of `host:port` (a name or IPv4 address, or `[IPv6]:port`), ports
 * 1–65535, none listed twice. The error names the member that is wrong.
 */
export const hostPortList = (raw: string): Parsed<HostPort[]> => {
  const members = raw.split(',').map((s) => s.trim());
  const out: HostPort[] = [];
  const seen = new Set<string>();
  for (const member of members) {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(member);
    const host = m?.[1] ?? m?.[2];
    const port = Number(m?.[3]);
    const hostOk = m?.[1] !== undefined ? m[1].includes(':') : !!host && (IPV4.test(host) || HOST_NAME.test(host));
    if (!m || !host || !hostOk) return fail(`member ${JSON.stringify(member)} is not host:port`);
    if (!Number.isInteger(port) || port < 1 || port > 65535 || !/^[1-9]\d*$/.test(m[3])) {
      return fail(`member ${JSON.stringify(member)} has a port outside 1-65535`);
    }
    const id = `${host.toLowerCase()}:${port}`;
    if (seen.has(id)) return fail(`member ${JSON.stringify(member)} is listed twice`);
    seen.add(id);
    out.push({ host, port });
  }
  return ok(out);
};
