import { Module } from '@nestjs/common';
import { QueueModule, QueueName } from '@slo/queue';
import { LogoutService } from './logout.service';
import { OutboxRelay } from './outbox-relay.service';
import { SessionExpirySweep } from './session-expiry.service';

/** Records logouts. The importing app provides the database and `QueueModule.forRoot`. */
@Module({
  imports: [QueueModule.register(QueueName.Delivery)],
  providers: [LogoutService, OutboxRelay, SessionExpirySweep],
  exports: [LogoutService, OutboxRelay, SessionExpirySweep],
})
export class LogoutModule {}
