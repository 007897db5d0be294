import { INestApplication, Logger } from '@nestjs/common';
import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { AppError, ErrorCode, ErrorRendering, sendError, toErrorBody } from '@slo/errors';
import { printableName, strictDecode, textProblem } from './input-text';

/**
 * The request-hygiene layer of every HTTP app (api and identity): bad input is refused with a 4xx
 * naming the problem before any handler, library route (oidc-provider, bull-board) or database sees it.
 *
 * - URL: the path and every query key and value must be valid percent-encoded UTF-8 without
 *   control characters (see input-text.ts for what counts).
 * - Headers: no control characters; `Authorization: Basic` credentials are decoded (base64, then
 *   form-decoding as RFC 6749 §2.3.1 asks) and checked the same way.
 * - Bodies: JSON (at most MAX_JSON_DEPTH deep, HTTP_BODY_LIMIT_BYTES big) and forms
 *   (strict percent-decoding), every key and string value checked; decompression and parser
 *   errors answer by their status (400, 413, 415), never 500. A body of any other type is a 415;
 *   a request without a body gets an empty one, so handlers never read properties of undefined.
 * - Routes whose body another component parses (oidc-provider reads forms itself): the form is
 *   read and checked here and handed over as the raw string, which oidc-provider then parses
 *   exactly as it would have (it uses an already read `req.body` when the stream is consumed).
 */
const MAX_JSON_DEPTH = 32;

export interface HygieneOptions {
  bodyLimitBytes: number;
  /** Parse JSON and form bodies; without, only URL and headers are checked (bodies are ignored). */
  parseBodies: boolean;
  /** Requests whose body another component parses (oidc-provider routes). */
  skipBody?: (req: Request) => boolean;
  rendering?: ErrorRendering;
}

const FORM = 'application/x-www-form-urlencoded';

export function installRequestHygiene(app: INestApplication, opts: HygieneOptions): void {
  for (const handler of requestHygiene(opts)) app.use(handler);
}

/** The middleware chain, in order (exported for tests and for apps that mount it themselves). */
function requestHygiene(opts: HygieneOptions): RequestHandler[] {
  const logger = new Logger('Http');
  const limit = opts.bodyLimitBytes;
  const skip = (req: Request) => opts.skipBody?.(req) ?? false;
  const json = express.json({ limit, verify: (_req, _res, buf) => checkJsonDepth(buf) });
  const form = express.urlencoded({ extended: false, limit, verify: (_req, _res, buf) => checkForm(buf.toString('utf8')) });
  // For oidc-provider: the raw form as a string (decompressed and charset-decoded by body-parser).
  const providerForm = express.text({ type: FORM, limit, verify: (_req, _res, buf) => checkForm(buf.toString('utf8')) });
  const guard =
    (fn: (req: Request) => void): RequestHandler =>
    (req, _res, next) => {
      try {
        fn(req);
        next();
      } catch (err) {
        next(err);
      }
    };
  const errors = (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const { status, body } = toErrorBody(err, logger, req);
    sendError(req, res, status, body, opts.rendering);
  };
  const parsers: RequestHandler = (req, res, next) => {
    if (skip(req)) return req.method === 'POST' ? providerForm(req, res, next) : next();
    json(req, res, (err?: unknown) => (err ? next(err) : form(req, res, next)));
  };
  if (!opts.parseBodies) return [guard(checkUrl), guard(checkHeaders), errors as unknown as RequestHandler];
  return [
    guard(checkUrl),
    guard(checkHeaders),
    parsers,
    guard((req) => {
      if (skip(req)) return;
      if (req.body === undefined && hasBody(req)) {
        throw new AppError(
          ErrorCode.UnsupportedMediaType,
          `Content-Type ${printableName(req.headers['content-type'] ?? '(none)')} is not supported; send application/json or ${FORM}`,
        );
      }
      if (req.body !== undefined) checkValue(req.body, '', 0);
      if (req.body === undefined && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) req.body = {};
    }),
    errors as unknown as RequestHandler,
  ];
}

/** A body is present when a length above zero or a transfer encoding is announced. */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function refuse(field: string, problem: string): never {
  throw AppError.validation(field, problem);
}

function checkUrl(req: Request): void {
  const raw = req.originalUrl ?? req.url;
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const decoded = strictDecode(path);
  if (decoded === null) refuse('path', 'is not valid percent-encoded UTF-8');
  const problem = textProblem(decoded, 'identifier');
  if (problem) refuse('path', problem);
  if (q >= 0) checkPairs(raw.slice(q + 1), 'query');
}

/** `a=1&b=2` as in a query string or a form body: strict decoding, no control characters. */
function checkPairs(raw: string, where: 'query' | 'form'): void {
  if (!raw) return;
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const key = strictDecode(rawKey, true);
    if (key === null) refuse(where, `parameter name ${printableName(rawKey)} is not valid percent-encoded UTF-8`);
    const keyProblem = textProblem(key, 'identifier');
    if (keyProblem) refuse(printableName(key), `the parameter name ${keyProblem}`);
    if (eq < 0) continue;
    const value = strictDecode(pair.slice(eq + 1), true);
    if (value === null) refuse(printableName(key), 'is not valid percent-encoded UTF-8');
    const valueProblem = textProblem(value, 'text');
    if (valueProblem) refuse(printableName(key), valueProblem);
  }
}

function checkForm(raw: string): void {
  try {
    checkPairs(raw, 'form');
  } catch (err) {
    throw withStatus(err);
  }
}

/**
 * body-parser turns an error thrown by `verify` into a 403 unless it carries its own status, and
 * sets `status` on it: give the AppError a plain, writable `status` with its own value.
 */
function withStatus(err: unknown): unknown {
  if (err instanceof AppError) {
    const status = err.status;
    Object.defineProperty(err, 'status', { value: status, writable: true, configurable: true });
    Object.defineProperty(err, 'statusCode', { value: status, writable: true, configurable: true });
  }
  return err;
}

function checkHeaders(req: Request): void {
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? '']) {
      const problem = textProblem(v, 'header');
      if (problem) refuse(`${name} header`, problem);
    }
  }
  const basic = /^Basic\s+(.*)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(basic[1])) refuse('Authorization header', 'Basic credentials are not base64');
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    for (const [part, value] of [
      ['client id', colon < 0 ? decoded : decoded.slice(0, colon)],
      ['secret', colon < 0 ? '' : decoded.slice(colon + 1)],
    ]) {
      const plain = strictDecode(value, true);
      if (plain === null) refuse('Authorization header', `the Basic ${part} is not valid percent-encoded UTF-8`);
      const problem = textProblem(value, 'identifier') ?? textProblem(plain, 'identifier');
      if (problem) refuse('Authorization header', `the Basic ${part} ${problem}`);
    }
  }
}

/** Every key and string of a parsed body; `field` is the path (`redirect_uris[0]`) for the message. */
function checkValue(value: unknown, field: string, depth: number): void {
  if (depth > MAX_JSON_DEPTH) refuse(field || 'body', `is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (typeof value === 'string') {
    const problem = textProblem(value, 'text');
    if (problem) refuse(field || 'body', problem);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkValue(v, `${field}[${i}]`, depth + 1));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const name = field ? `${field}.${printableName(k)}` : printableName(k);
      const problem = textProblem(k, 'identifier');
      if (problem) refuse(name, `the field name ${problem}`);
      checkValue(v, name, depth + 1);
    }
  }
}

/**
 * Nesting depth of a JSON text, counted without parsing (strings skipped), so a 3,000-deep
 * document is refused before JSON.parse or a validator recurses through it.
 */
function checkJsonDepth(buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw withStatus(AppError.validation('body', `JSON is nested deeper than ${MAX_JSON_DEPTH} levels`));
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}
