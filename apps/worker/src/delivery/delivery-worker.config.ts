import { OnApplicationBootstrap, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { DeliveryProcessor } from './delivery.processor';

/** Applies DELIVERY_CONCURRENCY to the delivery worker (the decorator's value is fixed at compile time). */
@Injectable()
export class DeliveryWorkerConfig implements OnApplicationBootstrap {
  constructor(
    private readonly processor: DeliveryProcessor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.processor.worker.concurrency = this.config.delivery.concurrency;
  }
}
