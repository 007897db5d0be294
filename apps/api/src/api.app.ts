import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from '@slo/config';
import { createHttpApp } from '@slo/app-shell';
import { ApiModule } from './api.module';
import { mountQueueDashboard } from './queue-dashboard';

/** Builds the platform api (used by main.ts and by the end-to-end tests). */
export async function createApiApp(config: AppConfig): Promise<INestApplication> {
  const app = await createHttpApp(ApiModule, config, { bodies: true });
  mountQueueDashboard(app);
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
