import { DynamicModule, Module } from '@nestjs/common';
import { LoggingModule, MetricsModule } from '@slo/observability';
import { HealthModule } from './health.module';

/**
 * The cross-cutting modules of an app, imported first by its root module: structured logs named
 * after the app, `/health/live` and `/health/ready`, and `/metrics` when the app exposes it.
 * Request hygiene, the validation pipe and the error filter come with createHttpApp.
 */
@Module({})
export class AppShellModule {
  static forRoot(app: string, opts: { metrics: boolean }): DynamicModule {
    return {
      module: AppShellModule,
      imports: [LoggingModule.forRoot(app), HealthModule, ...(opts.metrics ? [MetricsModule] : [])],
    };
  }
}
