import { DynamicModule, INestApplication, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, AppConfigModule } from '@slo/config';
import type { Request } from 'express';
import { Logger } from 'nestjs-pino';
import { AllExceptionsFilter, ErrorRendering } from '@slo/errors';
import { installRequestHygiene } from '@slo/observability';
import { createValidationPipe } from '@slo/validation';

@Module({})
class AppRoot {
  static with(config: AppConfig, feature: Type | DynamicModule): DynamicModule {
    return { module: AppRoot, imports: [AppConfigModule.forRoot(config), feature] };
  }
}

export interface HttpAppOptions {
  /** Parse JSON and form bodies (size-limited, JSON errors). */
  bodies: boolean;
  /** Requests whose body another component parses itself (oidc-provider routes). */
  skipBody?: (req: Request) => boolean;
  /** HTML error pages for browser routes (default: JSON everywhere). */
  errors?: ErrorRendering;
}

/**
 * The common shell of every app: the validated config, pino as the Nest logger (the feature
 * module imports AppShellModule, which brings LoggingModule), request hygiene, the global
 * validation pipe and error filter, proxy trust and shutdown hooks.
 */
export async function createHttpApp(
  feature: Type | DynamicModule,
  config: AppConfig,
  opts: HttpAppOptions,
): Promise<INestApplication> {
  const app = await NestFactory.create(AppRoot.with(config, feature), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  // A hop count, not `true`: with `true` Express takes the left-most X-Forwarded-For entry, which
  // any client can write, and the per-IP rate limits would key on a forged address.
  if (config.security.trustProxy > 0) express.set('trust proxy', config.security.trustProxy);
  // Before every route: bad URLs, headers and bodies are refused with a 4xx naming the problem.
  installRequestHygiene(app, {
    bodyLimitBytes: config.http.bodyLimitBytes,
    parseBodies: opts.bodies,
    skipBody: opts.skipBody,
    rendering: opts.errors,
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter(opts.errors));
  app.enableShutdownHooks();
  return app;
}
