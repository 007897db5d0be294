import { DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';

/** Paths (pino notation) that never reach the log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.client_secret',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.logout_token',
];

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
          useFactory: (config: AppConfig) => ({
            pinoHttp: {
              name: app,
              level: config.log.level,
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              transport: config.log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
              genReqId: (req: IncomingMessage, res: ServerResponse) => {
                const incoming = req.headers['x-request-id'];
                const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
                res.setHeader('X-Request-Id', id);
                return id;
              },
              serializers: {
                req: (req: { id: string; method: string; url: string; headers: Record<string, unknown> }) => ({
                  id: req.id,
                  method: req.method,
                  url: redactQuery(req.url),
                  headers: req.headers,
                }),
              },
              customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
                err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
              autoLogging: {
                ignore: (req: IncomingMessage) =>
                  ((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '').startsWith('/health'),
              },
            },
            forRoutes: ['{*path}'],
          }),
        }),
      ],
    };
  }
}

const SECRET_PARAMS =
  /([?&](?:code|token|oauth_token|id_token_hint|access_token|refresh_token|client_secret|logout_token)=)[^&]*/gi;

/** Removes token-bearing query parameters from a logged URL. */
export function redactQuery(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}
