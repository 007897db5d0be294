import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppConfig, AppConfigModule } from '@slo/config';
import { AllExceptionsFilter, createValidationPipe, installBodyParsers } from '@slo/observability';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './api.module';

@Module({})
class ApiRoot {
  static with(config: AppConfig): DynamicModule {
    return { module: ApiRoot, imports: [AppConfigModule.forRoot(config), ApiModule] };
  }
}

/** Builds the platform api (used by main.ts and by the end-to-end tests). */
export async function createApiApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create(ApiRoot.with(config), { bodyParser: false, bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  if (config.security.trustProxy) express.set('trust proxy', true);
  installBodyParsers(app, config.http.bodyLimitBytes);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  const doc = new DocumentBuilder()
    .setTitle('SLO Coordinator platform api')
    .setDescription(
      `Client registry and logout operations. Authenticate with a server token: POST ${config.identity.issuer}/token ` +
        `grant_type=client_credentials (HTTP Basic client authentication) and use the access token as Bearer.`,
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}
