import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DeliveryService } from '@slo/delivery';

/** Starts the worker's sending engine (its endpoint gate) once the app is up; other apps never send. */
@Injectable()
export class DeliveryWorkerConfig implements OnApplicationBootstrap {
  constructor(private readonly deliveries: DeliveryService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.deliveries.start();
  }
}
