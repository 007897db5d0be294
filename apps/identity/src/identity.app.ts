import { INestApplication } from '@nestjs/common';
import { AppConfig } from '@slo/config';
import { createHttpApp } from '@slo/observability';
import { IdentityModule } from './identity.module';
import { isProviderPath } from './oidc/provider-routes';

/** Builds the identity app (used by main.ts and by the end-to-end tests). */
export function createIdentityApp(config: AppConfig): Promise<INestApplication> {
  // oidc-provider parses the bodies of its own routes.
  return createHttpApp(IdentityModule, config, { bodies: true, skipBody: (req) => isProviderPath(req.path) });
}
