import { Module } from '@nestjs/common';
import { QueueModule, QueueName } from '@slo/queue';
import { DeliveryQueries } from './delivery-queries.service';
import { LogoutService } from './logout.service';
import { OutboxRelay } from './outbox-relay.service';
import { SessionExpirySweep } from './session-expiry.service';

/** Records logouts. The importing app provides the database and `QueueModule.forRoot`. */
@Module({
  imports: [QueueModule.register(QueueName.Delivery)],
  providers: [LogoutService, OutboxRelay, SessionExpirySweep, DeliveryQueries],
  exports: [LogoutService, OutboxRelay, SessionExpirySweep, DeliveryQueries],
})
export class LogoutModule {}
