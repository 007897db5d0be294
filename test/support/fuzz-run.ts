import { FuzzRequest } from './fuzz';
import { SEED } from './fuzz-stack';

/**
 * Sending the hostile requests of a fuzz suite, six at a time, and judging the answers: no 5xx (or
 * no answer), and every 4xx names its problem. FUZZ_TIMING=1 prints where the time went, by route
 * group and class.
 */
const CONCURRENCY = 6;

interface Outcome {
  req: FuzzRequest;
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

const describeReq = (r: FuzzRequest) => {
  const body =
    r.body === undefined
      ? ''
      : ` body=${JSON.stringify(String(Buffer.isBuffer(r.body) ? r.body.toString('latin1') : r.body).slice(0, 160))}`;
  const headers = r.headers ? ` headers=${JSON.stringify(r.headers).slice(0, 200)}` : '';
  return `[${r.cls}] ${r.method} ${r.url.slice(0, 240)}${headers}${body}`;
};

async function send(r: FuzzRequest): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { req: r, status: res.status, contentType: res.headers.get('content-type') ?? '', text, ms: Date.now() - started };
  } catch (err) {
    // A dropped connection or no answer at all is as bad as a 5xx.
    return {
      req: r,
      status: 599,
      contentType: '',
      text: `no answer: ${(err as Error).cause ?? (err as Error).message}`,
      ms: Date.now() - started,
    };
  }
}

export async function runAll(requests: FuzzRequest[]): Promise<Outcome[]> {
  const out: Outcome[] = new Array(requests.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const i = next++;
        out[i] = await send(requests[i]);
      }
    }),
  );
  return out;
}

/** Failures: every 5xx (or missing answer), and every 4xx whose body does not say what is wrong. */
function failures(outcomes: Outcome[]): { serverErrors: string[]; unnamed: string[]; summary: string } {
  const serverErrors: string[] = [];
  const unnamed: string[] = [];
  const groups = new Map<string, { total: number; bad: number }>();
  for (const o of outcomes) {
    const g = groups.get(o.req.group) ?? { total: 0, bad: 0 };
    g.total++;
    const line = `${o.status} ${describeReq(o.req)} -> ${JSON.stringify(o.text.slice(0, 200))}`;
    if (o.status >= 500) {
      serverErrors.push(line);
      g.bad++;
    } else if (o.status >= 400 && !namesProblem(o.contentType, o.text)) {
      unnamed.push(`${line} (${o.contentType || 'no content-type'})`);
      g.bad++;
    }
    groups.set(o.req.group, g);
  }
  const bad = [...groups].filter(([, g]) => g.bad > 0);
  const summary = `seed ${SEED}: ${outcomes.length} requests, ${serverErrors.length} 5xx, ${unnamed.length} unnamed 4xx, on ${bad.length} of ${groups.size} route groups${bad.length ? `: ${bad.map(([k, g]) => `${k} (${g.bad}/${g.total})`).join(', ')}` : ''}`;
  return { serverErrors, unnamed, summary };
}

export function report(outcomes: Outcome[]) {
  const f = failures(outcomes);
  if (process.env.FUZZ_TIMING) {
    const t = new Map<string, number>();
    for (const o of outcomes)
      t.set(`${o.req.group} ${o.req.cls.split(' ')[0]}`, (t.get(`${o.req.group} ${o.req.cls.split(' ')[0]}`) ?? 0) + o.ms);
    console.log(
      [...t]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([k, v]) => `${v} ms ${k}`)
        .join('\n'),
    );
  }
  console.log([f.summary, ...f.serverErrors.slice(0, 300), ...f.unnamed.slice(0, 200)].join('\n'));
  return f;
}

/** A refusal names its problem: JSON `error` with a message, or an HTML page with an error text. */
function namesProblem(contentType: string, text: string): boolean {
  if (/json/.test(contentType)) {
    try {
      const body = JSON.parse(text) as { error?: unknown; message?: unknown; error_description?: unknown };
      const message = body.message ?? body.error_description;
      return typeof body.error === 'string' && body.error.length > 0 && typeof message === 'string' && message.length > 0;
    } catch {
      return false;
    }
  }
  if (/html/.test(contentType)) {
    const alert = /<p[^>]*(?:role="alert"|class="error")[^>]*>([\s\S]*?)<\/p>/.exec(text);
    return Boolean(alert && alert[1].replace(/<[^>]+>/g, '').trim().length > 0);
  }
  return false;
}
