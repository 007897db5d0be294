// The one place that says what never reaches a log line. Used by the pino setup
// (logging.module.ts), the error filter (http-exception.filter.ts) and the TypeORM logger
// (libs/database). It sits in the bottom library, beside the config, so every layer can use it;
// relative imports only: libs/database loads this where path aliases are not mapped.

export const REDACTED = '[redacted]';

/**
 * Query and fragment parameters whose values are credentials: OAuth codes and tokens, client
 * secrets and assertions, PKCE verifiers, passwords. `state` is kept: it is the relying party's
 * CSRF nonce, worthless without the code it travels with, and useful to follow a sign-in.
 */
const SECRET_PARAMS = new Set([
  'code',
  'token',
  'oauth_token',
  'id_token_hint',
  'id_token',
  'access_token',
  'refresh_token',
  'logout_token',
  'client_secret',
  'client_assertion',
  'code_verifier',
  'device_code',
  'user_code',
  'password',
  'secret',
]);

/** Paths (pino notation) that never reach the log: credentials in headers and in logged objects. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.client_secret',
  '*.secret',
  '*.webhook_secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.id_token_hint',
  '*.oauth_token',
  '*.logout_token',
  '*.code_verifier',
];

const PARAM = /([?&#])([^=&#]*)=([^&#]*)/g;

/** A URL (absolute or a path) with the values of SECRET_PARAMS in its query and fragment replaced. */
export function redactUrl(url: string): string;
export function redactUrl(url: string | undefined): string | undefined;
export function redactUrl(url: string | undefined): string | undefined {
  if (typeof url !== 'string') return url;
  return url.replace(PARAM, (whole, sep: string, name: string) =>
    SECRET_PARAMS.has(decodeName(name)) ? `${sep}${name}=${REDACTED}` : whole,
  );
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/** Shorter parameter values are left in messages: no secret is that short, and `1` or `app` would mangle them. */
const MIN_SCRUBBED_LENGTH = 8;

/**
 * `text` with every value of a query's parameters replaced: PostgreSQL repeats offending values in
 * its messages (`invalid input syntax for type uuid: "…"`), which may be a secret hash or a
 * sealed secret.
 */
export function scrubParameters(text: string, parameters: unknown): string {
  if (!Array.isArray(parameters)) return text;
  let out = text;
  for (const p of parameters.flat(2)) {
    const value = typeof p === 'string' ? p : Buffer.isBuffer(p) ? p.toString('utf8') : null;
    if (value && value.length >= MIN_SCRUBBED_LENGTH) out = out.split(value).join(REDACTED);
  }
  return out;
}

/** Fields of a database error that echo row or parameter values; the rest (code, constraint, table, query) is kept. */
const VALUE_FIELDS = ['parameters', 'detail', 'where', 'internalQuery', 'driverError'];

/**
 * The pino `err` serializer's second step (after pino's own): an error that came out of a query
 * (TypeORM's QueryFailedError carries `parameters` and the driver's `detail`) loses its parameters,
 * and its message and stack are scrubbed of their values.
 */
export function redactError(err: Record<string, unknown>): Record<string, unknown> {
  if (!err || typeof err !== 'object') return err;
  const parameters = err.parameters ?? (err.driverError as { parameters?: unknown } | undefined)?.parameters;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) {
    if (VALUE_FIELDS.includes(key)) continue;
    out[key] = typeof value === 'string' ? scrubParameters(value, parameters) : value;
  }
  if (Array.isArray(parameters)) out.parameters = `${parameters.length} parameters, not logged`;
  return out;
}

/** An error's message as it may be logged. */
export function logSafeMessage(err: unknown): string {
  const e = err as { message?: unknown; parameters?: unknown } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return scrubParameters(message, e?.parameters);
}
