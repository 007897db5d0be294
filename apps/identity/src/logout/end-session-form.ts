import type { IncomingMessage } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { escapeHtml, page } from '../oidc/html';
import { OIDC_ROUTES } from '../oidc/provider-routes';

/** The same limit oidc-provider puts on the form bodies of its own POST routes. */
const FORM_LIMIT_BYTES = 56 * 1024;
const FORM = 'application/x-www-form-urlencoded';

class FormError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads an urlencoded body with a size limit (oidc-provider's own body reader only runs inside its
 * routes, and the Express body parsers are skipped for provider paths, so the stream is untouched).
 */
async function readForm(req: IncomingMessage): Promise<string> {
  // The request-hygiene layer (libs/observability) has usually read and checked the form already.
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (typeof parsed === 'string') return parsed;
  const declared = req.headers['content-length'] ? Number(req.headers['content-length']) : undefined;
  if (declared !== undefined && declared > FORM_LIMIT_BYTES) throw new FormError(413, 'the request body is too large');
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > FORM_LIMIT_BYTES) throw new FormError(413, 'the request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('latin1');
}

/**
 * `POST /session/end` is accepted like `GET` (OIDC RP-Initiated Logout requires both): the form
 * body becomes the query of a GET, so the provider's own checks apply unchanged. oidc-provider
 * serves POST only with `enableHttpPostMethods`, which demands `SameSite=None` session cookies for
 * the whole provider. Returns how to undo the rewrite once the provider answered (so logs show the
 * request as it came), or null when the request was answered here (a body that is not a form).
 */
export async function acceptPostAsGet(ctx: KoaContextWithOIDC): Promise<(() => void) | null> {
  if (ctx.method !== 'POST' || ctx.path !== OIDC_ROUTES.end_session) return () => {};
  const { url } = ctx;
  try {
    if (ctx.get('content-type') && !ctx.is(FORM)) {
      throw new FormError(400, `only ${FORM} bodies are accepted on POST ${OIDC_ROUTES.end_session}`);
    }
    const form = new URLSearchParams(await readForm(ctx.req));
    ctx.method = 'GET';
    ctx.url = `${ctx.path}?${form.toString()}`;
  } catch (err) {
    const status = err instanceof FormError ? err.status : 400;
    const message = err instanceof FormError ? err.message : 'the request body could not be read';
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = page(
      'Sign-out error',
      `<h1>Cannot sign out here</h1><p class="error" role="alert"><strong>invalid_request</strong>: ${escapeHtml(message)}</p>`,
    );
    return null;
  }
  return () => {
    ctx.method = 'POST';
    ctx.url = url;
  };
}
