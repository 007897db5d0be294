import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { AccountsModule } from '@slo/accounts';
import { ClientsModule } from '@slo/clients';
import { DatabaseModule } from '@slo/database';
import { KeysModule } from '@slo/keys';
import { HealthModule, LoggingModule } from '@slo/observability';
import { RedisModule } from '@slo/queue';
import { InteractionController } from './interaction/interaction.controller';
import { OidcMiddleware } from './oidc/oidc.middleware';
import { oidcProviderFactory } from './oidc/oidc-provider.factory';

@Module({
  imports: [
    LoggingModule.forRoot('identity'),
    DatabaseModule.forRoot(),
    RedisModule,
    HealthModule,
    AccountsModule,
    ClientsModule,
    KeysModule,
  ],
  controllers: [InteractionController],
  providers: [oidcProviderFactory],
})
export class IdentityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(OidcMiddleware).forRoutes('{*path}');
  }
}
