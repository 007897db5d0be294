import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, AppConfigModule } from '@slo/config';
import { AllExceptionsFilter, createValidationPipe, installBodyParsers } from '@slo/observability';
import { Logger } from 'nestjs-pino';
import { IdentityModule } from './identity.module';
import { isProviderPath } from './oidc/provider-routes';

@Module({})
class IdentityRoot {
  static with(config: AppConfig): DynamicModule {
    return { module: IdentityRoot, imports: [AppConfigModule.forRoot(config), IdentityModule] };
  }
}

/** Builds the identity app (used by main.ts and by the end-to-end tests). */
export async function createIdentityApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create(IdentityRoot.with(config), { bodyParser: false, bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  if (config.security.trustProxy) express.set('trust proxy', true);
  installBodyParsers(app, config.http.bodyLimitBytes, (req) => isProviderPath(req.path));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  return app;
}
