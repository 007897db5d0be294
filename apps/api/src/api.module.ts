import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AppShellModule } from '@slo/app-shell';
import { AuthModule } from '@slo/auth';
import { ClientsModule } from '@slo/clients';
import { DatabaseModule } from '@slo/database';
import { DeliveryModule } from '@slo/delivery';
import { KeysModule } from '@slo/keys';
import { LogoutModule } from '@slo/logout';
import { QueueModule, RedisModule } from '@slo/queue';
import { RateLimitModule } from '@slo/ratelimit';
import { BearerFailureLimitGuard } from './auth/bearer-failure-limit.guard';
import { ServerTokenGuard } from './auth/server-token.guard';
import { ClientsController } from './clients/clients.controller';
import { SelfClientController } from './clients/self-client.controller';
import { DeliveriesController } from './deliveries/deliveries.controller';
import { EndpointController } from './deliveries/endpoint.controller';
import { RetriesController } from './deliveries/retries.controller';
import { KeysController } from './keys/keys.controller';
import { LogoutEventsController } from './logout-events/logout-events.controller';
import { SessionsController } from './logout-events/sessions.controller';

@Module({
  imports: [
    AppShellModule.forRoot('api', { metrics: true }),
    DatabaseModule.forRoot(),
    RedisModule,
    QueueModule.forRoot([]),
    ClientsModule,
    LogoutModule,
    DeliveryModule,
    KeysModule,
    RateLimitModule,
    AuthModule,
  ],
  // SelfClientController first: /v1/clients/me must win over /v1/clients/:clientId.
  controllers: [
    SelfClientController,
    ClientsController,
    LogoutEventsController,
    SessionsController,
    DeliveriesController,
    EndpointController,
    RetriesController,
    KeysController,
  ],
  // The global guard is ServerTokenGuard behind the limit on failed bearer authentication.
  providers: [ServerTokenGuard, { provide: APP_GUARD, useClass: BearerFailureLimitGuard }],
})
export class ApiModule {}
