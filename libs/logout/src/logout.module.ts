import { Module } from '@nestjs/common';
import { DeliveryQueueModule } from '@slo/delivery';
import { LogoutService } from './logout.service';
import { SessionExpirySweep } from './session-expiry.service';

/** Records logouts. The importing app provides the database, config and `QueueModule.forRoot`. */
@Module({
  imports: [DeliveryQueueModule],
  providers: [LogoutService, SessionExpirySweep],
  exports: [LogoutService, SessionExpirySweep],
})
export class LogoutModule {}
