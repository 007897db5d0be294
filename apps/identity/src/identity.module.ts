import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { AccountsModule } from '@slo/accounts';
import { AppShellModule } from '@slo/app-shell';
import { AuthModule } from '@slo/auth';
import { ClientsModule } from '@slo/clients';
import { DatabaseModule } from '@slo/database';
import { KeysModule } from '@slo/keys';
import { LogoutModule } from '@slo/logout';
import { QueueModule, RedisModule } from '@slo/queue';
import { RateLimitModule } from '@slo/ratelimit';
import { InteractionController } from './interaction/interaction.controller';
import { ApiLogoutController } from './logout/api-logout.controller';
import { SdkSessionController } from './logout/sdk-session.controller';
import { EndSessionHook } from './logout/end-session.hook';
import { AppLogout } from './logout/app-logout.service';
import { BrowserLogout } from './logout/browser-logout.service';
import { RedirectLogoutController } from './logout/redirect-logout.controller';
import { TokenChecks } from './logout/token-checks';
import { ClientAuthLimitHook } from './oidc/client-auth-limit.hook';
import { denyFraming } from './oidc/framing';
import { KeyReloader } from './oidc/key-reloader';
import { OidcMiddleware } from './oidc/oidc.middleware';
import { oidcProviderFactory } from './oidc/oidc-provider.factory';
import { SdkAssets } from './sdk/sdk-assets';
import { SdkController } from './sdk/sdk.controller';

@Module({
  imports: [
    AppShellModule.forRoot('identity', { metrics: false }),
    DatabaseModule.forRoot(),
    RedisModule,
    AccountsModule,
    ClientsModule,
    KeysModule,
    QueueModule.forRoot([]),
    LogoutModule,
    RateLimitModule,
    AuthModule,
  ],
  controllers: [InteractionController, RedirectLogoutController, ApiLogoutController, SdkSessionController, SdkController],
  providers: [
    oidcProviderFactory,
    BrowserLogout,
    AppLogout,
    TokenChecks,
    EndSessionHook,
    KeyReloader,
    SdkAssets,
    ClientAuthLimitHook,
  ],
})
export class IdentityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(denyFraming, OidcMiddleware).forRoutes('{*path}');
  }
}
