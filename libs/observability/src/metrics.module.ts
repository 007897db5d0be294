import { Controller, Get, Global, Header, Headers, Inject, Logger, Module, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig } from '@slo/config';
import type { Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { AppError, ErrorCode } from '@slo/errors';

/** DI token of the app's Prometheus registry; libraries add their metrics to it. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Who may scrape: with METRICS_TOKEN set, only a request bearing it (metrics name client ids and
 * queue states); without it, nobody in production and anybody in local development and tests.
 */
export function metricsAccess(config: AppConfig, authorization: string | undefined): 'allowed' | 'unauthenticated' | 'disabled' {
  const expected = config.security.metricsToken;
  if (!expected) return config.isLocal ? 'allowed' : 'disabled';
  const presented = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
  // Equal-length digests, so the comparison takes the same time whatever was presented.
  return presented && timingSafeEqual(digest(presented), digest(expected)) ? 'allowed' : 'unauthenticated';
}

@ApiExcludeController()
@Controller('metrics')
class MetricsController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    if (!config.security.metricsToken) {
      new Logger('Metrics').warn(
        config.isLocal
          ? 'METRICS_TOKEN is not set: /metrics is open (development and test only)'
          : 'METRICS_TOKEN is not set: /metrics is refused',
      );
    }
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  async metrics(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const access = metricsAccess(this.config, authorization);
    if (access === 'disabled') {
      throw new AppError(ErrorCode.Forbidden, '/metrics is disabled: set METRICS_TOKEN and scrape with it as a bearer token');
    }
    if (access === 'unauthenticated') {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new AppError(ErrorCode.Unauthenticated, '/metrics needs Authorization: Bearer <METRICS_TOKEN>');
    }
    res.type('text/plain; version=0.0.4; charset=utf-8');
    return this.registry.metrics();
  }
}

/**
 * `GET /metrics` in the Prometheus text format: process metrics plus whatever the app's libraries
 * register, behind the bearer token METRICS_TOKEN.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: METRICS_REGISTRY,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry, prefix: 'slo_' });
        return registry;
      },
    },
  ],
  exports: [METRICS_REGISTRY],
})
export class MetricsModule {}
