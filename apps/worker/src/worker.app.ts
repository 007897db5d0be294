import { INestApplication } from '@nestjs/common';
import { AppConfig } from '@slo/config';
import { createHttpApp } from '@slo/app-shell';
import { WorkerModule } from './worker.module';

/** The worker: BullMQ consumers, with an HTTP port for health and metrics only. */
export function createWorkerApp(config: AppConfig): Promise<INestApplication> {
  return createHttpApp(WorkerModule, config, { bodies: false });
}
