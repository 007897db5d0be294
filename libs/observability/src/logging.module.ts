import { DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig, REDACTED, REDACTED_PATHS, redactError, redactUrl } from '@slo/config';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Structured JSON logs with a request id (from `X-Request-Id` when sane, else generated). */
@Module({})
export class LoggingModule {
  static forRoot(app: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => {
            const options = {
              name: app,
              level: config.log.level,
              redact: { paths: REDACTED_PATHS, censor: REDACTED },
              transport:
                config.log.pretty && !config.log.file ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
              genReqId: (req: IncomingMessage, res: ServerResponse) => {
                const incoming = req.headers['x-request-id'];
                const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
                res.setHeader('X-Request-Id', id);
                return id;
              },
              // pino-http hands these its own serialization of req, res and err.
              serializers: {
                req: (req: { id: string; method: string; url: string; headers: Record<string, unknown> }) => ({
                  id: req.id,
                  method: req.method,
                  url: redactUrl(req.url),
                  headers: withUrlHeader(req.headers, 'referer'),
                }),
                // Redirects carry authorization codes (and tokens, in a fragment) in Location.
                res: (res: { statusCode: number; headers?: Record<string, unknown> }) => ({
                  statusCode: res.statusCode,
                  headers: res.headers && withUrlHeader(res.headers, 'location'),
                }),
                err: redactError,
              },
              customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
                err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
              autoLogging: {
                ignore: (req: IncomingMessage) =>
                  ((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '').startsWith('/health'),
              },
            };
            return {
              // LOG_FILE: synchronous appends, so a line is in the file once the request is logged.
              pinoHttp: config.log.file
                ? ([options, pino.destination({ dest: config.log.file, sync: true, mkdir: true })] as const)
                : options,
              forRoutes: ['{*path}'],
            };
          },
        }),
      ],
    };
  }
}

function withUrlHeader(headers: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = headers[name];
  return typeof value === 'string' ? { ...headers, [name]: redactUrl(value) } : headers;
}

/** Removes token-bearing query parameters from a logged URL (see redaction.ts). */
export const redactQuery = redactUrl;
