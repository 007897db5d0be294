import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig, AppConfigModule } from '@slo/config';
import { AllExceptionsFilter } from '@slo/observability';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker.module';

@Module({})
class WorkerRoot {
  static with(config: AppConfig): DynamicModule {
    return { module: WorkerRoot, imports: [AppConfigModule.forRoot(config), WorkerModule] };
  }
}

/** The worker: BullMQ consumers, with an HTTP port for health only. */
export async function createWorkerApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create(WorkerRoot.with(config), { bufferLogs: true, bodyParser: false, abortOnError: false });
  app.useLogger(app.get(Logger));
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  return app;
}
