import { Module } from '@nestjs/common';
import { QueueModule, QueueName } from '@slo/queue';
import { DeliveryQueries } from './delivery-queries.service';
import { EndpointHealthService } from './endpoint-health.service';
import { LogoutService } from './logout.service';
import { OutboxRelay } from './outbox-relay.service';
import { SessionExpirySweep } from './session-expiry.service';

/** Records logouts. The importing app provides the database and `QueueModule.forRoot`. */
@Module({
  imports: [QueueModule.register(QueueName.Delivery)],
  providers: [LogoutService, OutboxRelay, SessionExpirySweep, DeliveryQueries, EndpointHealthService],
  exports: [LogoutService, OutboxRelay, SessionExpirySweep, DeliveryQueries, EndpointHealthService],
})
export class LogoutModule {}
