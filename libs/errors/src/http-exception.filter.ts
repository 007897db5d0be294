import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { AppError, ErrorCode } from './app-error';
import { outageBody, RETRY_AFTER_SECONDS } from './outage';
import { logSafeMessage, redactUrl } from '@slo/config';
import { ErrorBody, ErrorRendering, sendError } from './error-rendering';

const HTTP_CODES: Partial<Record<number, string>> = {
  400: 'bad_request',
  401: ErrorCode.Unauthenticated,
  403: 'forbidden',
  404: ErrorCode.NotFound,
  405: 'method_not_allowed',
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: 'too_many_requests',
};

/** Maps every error to `{ error, message, details? }`; 5xx carry an `error_id` that is also logged. */
export function toErrorBody(exception: unknown, logger: Logger, req?: Request): { status: number; body: ErrorBody } {
  // A store that cannot be reached: 503 with Retry-After, logged once per outage (outage.ts), not per request.
  const outage = outageBody(exception);
  if (outage) {
    req?.res?.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    return { status: HttpStatus.SERVICE_UNAVAILABLE, body: outage };
  }
  if (exception instanceof AppError) {
    return { status: exception.status, body: { error: exception.code, message: exception.message, details: exception.details } };
  }
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    const message = typeof res === 'string' ? res : ((res as { message?: unknown }).message ?? exception.message);
    return {
      status,
      body: { error: HTTP_CODES[status] ?? 'http_error', message: Array.isArray(message) ? message.join('; ') : String(message) },
    };
  }
  // body-parser, raw-body, zlib (via body-parser) and router errors: http-errors with a 4xx status.
  const httpError = exception as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown; message?: string };
  const httpStatus = typeof httpError?.status === 'number' ? httpError.status : httpError?.statusCode;
  if (
    typeof httpStatus === 'number' &&
    httpStatus >= 400 &&
    httpStatus < 500 &&
    (typeof httpError.type === 'string' || httpError.expose === true)
  ) {
    return { status: httpStatus, body: bodyParserErrorBody(String(httpError.type ?? ''), httpError.message ?? '', httpStatus) };
  }
  const errorId = randomUUID();
  logger.error(
    { err: exception, errorId, method: req?.method, url: redactUrl(req?.originalUrl) },
    `unhandled error ${errorId}: ${logSafeMessage(exception)}`,
  );
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: { error: ErrorCode.Internal, message: 'internal error; quote error_id when reporting it', error_id: errorId },
  };
}

function bodyParserErrorBody(type: string, message: string, status: number): ErrorBody {
  switch (type) {
    case 'entity.too.large':
      return { error: ErrorCode.PayloadTooLarge, message: 'request body is larger than the allowed limit' };
    case 'entity.parse.failed':
      return { error: ErrorCode.InvalidJson, message: 'request body is not valid JSON' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { error: ErrorCode.UnsupportedMediaType, message };
    case 'parameters.too.many':
      return { error: ErrorCode.PayloadTooLarge, message: 'the form has too many parameters' };
    case 'request.size.invalid':
      return { error: 'bad_request', message: 'request body size does not match Content-Length' };
    case '':
      // zlib (garbage gzip, deflate or brotli) and other stream errors.
      return { error: HTTP_CODES[status] ?? 'bad_request', message: `request could not be read: ${message || 'malformed'}` };
    default:
      return { error: HTTP_CODES[status] ?? 'bad_request', message: message || 'malformed request body' };
  }
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly rendering?: ErrorRendering) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const { status, body } = toErrorBody(exception, this.logger, req);
    if (res.headersSent) return;
    sendError(req, res, status, body, this.rendering);
  }
}
