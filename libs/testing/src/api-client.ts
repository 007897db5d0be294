/** One call of an {@link ApiClient}: the status it must answer with, and what to send. */
interface CallOptions {
  /** The status the call must answer with; any other throws, naming method, path, status and body. */
  expect: number;
  /** Sent as JSON; a string is sent as it is (for malformed bodies). */
  body?: unknown;
  headers?: Record<string, string>;
}

interface ApiResponse<T> {
  status: number;
  headers: Headers;
  /** Parsed JSON, the text of any other body, or undefined when empty. */
  body: T;
}

type Body = Record<string, unknown>;

/**
 * A JSON client for one base URL, with a Bearer token or none. Every call names the status it
 * expects, so a test reads `const c = await admin.post('/v1/clients', { body, expect: 201 })`
 * and a wrong answer fails with the body that explains it.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  /** The same base URL with another token (or none). */
  as(token?: string): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  get = <T = Body>(path: string, opts: CallOptions) => this.call<T>('GET', path, opts);
  post = <T = Body>(path: string, opts: CallOptions) => this.call<T>('POST', path, opts);
  put = <T = Body>(path: string, opts: CallOptions) => this.call<T>('PUT', path, opts);
  patch = <T = Body>(path: string, opts: CallOptions) => this.call<T>('PATCH', path, opts);
  delete = <T = Body>(path: string, opts: CallOptions) => this.call<T>('DELETE', path, opts);

  private async call<T>(method: string, path: string, opts: CallOptions): Promise<T> {
    return (await this.send<T>(method, path, opts)).body;
  }

  /** The whole answer (status, headers, body), for tests that look at headers. */
  async send<T = Body>(method: string, path: string, opts: CallOptions): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...headers, ...opts.headers },
      body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: unknown = text === '' ? undefined : text;
    if (text && res.headers.get('content-type')?.includes('json')) body = JSON.parse(text);
    if (res.status !== opts.expect) {
      throw new Error(`${method} ${path}: expected ${opts.expect}, got ${res.status}: ${text.slice(0, 1000)}`);
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }
}

/** A client for `baseUrl` (the api, or identity's JSON routes) with `token`, or anonymous. */
export function apiClient(baseUrl: string, token?: string): ApiClient {
  return new ApiClient(baseUrl, token);
}
