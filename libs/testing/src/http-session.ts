/**
 * A scripted browser for tests: fetch with a cookie jar and manual redirects, so each hop of an
 * OAuth flow can be inspected.
 */
export class HttpSession {
  private readonly jars = new Map<string, Map<string, string>>();

  /**
   * @param perOrigin keep one cookie jar per origin (scheme, host and port), so several apps on
   *   loopback ports do not see each other's cookies; by default one jar serves every URL.
   */
  constructor(private readonly opts: { perOrigin?: boolean } = {}) {}

  private jarFor(url: string): Map<string, string> {
    const key = this.opts.perOrigin ? new URL(url).origin : '';
    let jar = this.jars.get(key);
    if (!jar) this.jars.set(key, (jar = new Map()));
    return jar;
  }

  cookie(name: string, url = ''): string | undefined {
    return this.jarFor(url || 'http://any').get(name);
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const jar = this.jarFor(url);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const idx = pair.indexOf('=');
      const name = pair.slice(0, idx).trim();
      const value = pair.slice(idx + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** Follows redirects while they stay on `origin`; returns the first response that is not such a redirect. */
  async follow(url: string, origin: string, init: RequestInit = {}): Promise<Response> {
    let res = await this.request(url, init);
    for (let hops = 0; hops < 10; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return res;
      const next = new URL(location, url);
      if (next.origin !== origin) return res;
      url = next.href;
      res = await this.request(url);
    }
    throw new Error('too many redirects');
  }

  postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
  }
}
