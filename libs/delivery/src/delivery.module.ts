import { Module } from '@nestjs/common';
import { KeysModule } from '@slo/keys';
import { DeliveryService } from './delivery.service';

/** Sends deliveries. The importing app provides the database, Redis (`RedisModule`) and config. */
@Module({
  imports: [KeysModule],
  providers: [DeliveryService],
  exports: [DeliveryService],
})
export class DeliveryModule {}
