import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { AppError, ErrorCode } from '@slo/errors';
import { onCluster, REDIS, type RedisClient } from '@slo/queue';
import { DataSource } from 'typeorm';
import { EndpointGuard } from './endpoint-guard';

export interface EndpointHealth {
  client_id: string;
  endpoint_status: string;
  endpoint_status_reason: string | null;
  last_hour: { attempts: number; delivered: number; success_rate: number | null; p50_ms: number | null; p95_ms: number | null };
  last_success_at: string | null;
  last_failure_at: string | null;
  pending: number;
  dead: number;
}

/**
 * The one owner of a client's back-channel endpoint state: how it is doing (from the delivery
 * records and the shared breaker), and every change of `clients.endpoint_status` — an operator's
 * disable and enable, the auto-disable of an endpoint that keeps failing, and the disable after a
 * 410 Gone.
 */
@Injectable()
export class EndpointStateService {
  private readonly logger = new Logger(EndpointStateService.name);
  /** The shared per-endpoint limit and circuit breaker (Redis). */
  readonly guard: EndpointGuard;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) redis: RedisClient,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.guard = new EndpointGuard(redis, {
      prefix: config.redis.prefix,
      cluster: onCluster(config),
      concurrency: config.delivery.endpointConcurrency,
      failureThreshold: config.delivery.breakerThreshold,
      cooldownMs: config.delivery.breakerCooldownMs,
    });
  }

  /** The breaker as every worker sees it. */
  breakerState(clientId: string) {
    return this.guard.breakerState(clientId);
  }

  /** A 410 Gone: the endpoint is disabled (sign-in still works) until an operator enables it. */
  async disableGone(clientId: string, reason: string): Promise<void> {
    const [, affected] = (await this.db.query(
      `UPDATE clients SET endpoint_status = 'disabled', endpoint_status_reason = $2, endpoint_status_changed_at = now()
        WHERE client_id = $1 AND endpoint_status = 'active'`,
      [clientId, reason],
    )) as [unknown, number];
    if (affected) this.logger.warn({ clientId, reason }, 'back-channel endpoint disabled');
  }

  async health(clientId: string): Promise<EndpointHealth> {
    const [client]: { endpoint_status: string; endpoint_status_reason: string | null }[] = await this.db.query(
      'SELECT endpoint_status, endpoint_status_reason FROM clients WHERE client_id = $1',
      [clientId],
    );
    if (!client) throw new AppError(ErrorCode.NotFound, `client ${clientId} does not exist`);
    const [hour]: { attempts: number; delivered: number; p50: number | null; p95: number | null }[] = await this.db.query(
      `SELECT count(*)::int AS attempts, count(*) FILTER (WHERE a.outcome = 'delivered')::int AS delivered,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) AS p95
         FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.client_id = $1 AND a.started_at > now() - interval '1 hour'`,
      [clientId],
    );
    const [state]: { last_success: Date | null; last_failure: Date | null; pending: number; dead: number }[] =
      await this.db.query(
        `SELECT max(delivered_at) AS last_success,
              max(last_attempt_at) FILTER (WHERE last_error IS NOT NULL AND last_status_code IS DISTINCT FROM 200) AS last_failure,
              count(*) FILTER (WHERE status IN ('pending', 'delivering', 'retrying'))::int AS pending,
              count(*) FILTER (WHERE status = 'dead')::int AS dead
         FROM deliveries WHERE client_id = $1`,
        [clientId],
      );
    return {
      client_id: clientId,
      endpoint_status: client.endpoint_status,
      endpoint_status_reason: client.endpoint_status_reason,
      last_hour: {
        attempts: hour.attempts,
        delivered: hour.delivered,
        success_rate: hour.attempts ? hour.delivered / hour.attempts : null,
        p50_ms: hour.p50 === null ? null : Math.round(hour.p50),
        p95_ms: hour.p95 === null ? null : Math.round(hour.p95),
      },
      last_success_at: state.last_success?.toISOString() ?? null,
      last_failure_at: state.last_failure?.toISOString() ?? null,
      pending: state.pending,
      dead: state.dead,
    };
  }

  /**
   * Auto-disable: endpoints that delivered nothing for `afterSeconds` while their deliveries kept
   * failing (a failure in the last `afterSeconds`, and one open or dead for longer than that) are
   * disabled with the reason recorded. Returns the disabled client ids.
   */
  async disableFailingEndpoints(afterSeconds: number): Promise<string[]> {
    if (afterSeconds <= 0) return [];
    const rows: { client_id: string }[] = await this.db.query(
      `SELECT c.client_id FROM clients c
        WHERE c.endpoint_status = 'active' AND c.backchannel_logout_uri IS NOT NULL
          AND EXISTS (SELECT 1 FROM deliveries d WHERE d.client_id = c.client_id
                        AND d.status IN ('retrying', 'dead') AND d.last_attempt_at > now() - make_interval(secs => $1))
          AND EXISTS (SELECT 1 FROM deliveries d WHERE d.client_id = c.client_id
                        AND d.status IN ('retrying', 'dead') AND d.created_at < now() - make_interval(secs => $1))
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.client_id = c.client_id
                            AND d.delivered_at > now() - make_interval(secs => $1))`,
      [afterSeconds],
    );
    for (const { client_id } of rows) {
      await this.setEndpointStatus(
        client_id,
        'disabled',
        `auto-disabled: nothing delivered for ${afterSeconds} s while deliveries kept failing`,
      );
    }
    return rows.map((r) => r.client_id);
  }

  /** Disables or enables the endpoint (sign-in is unaffected); the reason is kept and logged. */
  async setEndpointStatus(clientId: string, status: 'active' | 'disabled', reason: string | null): Promise<void> {
    const [, affected] = (await this.db.query(
      `UPDATE clients SET endpoint_status = $2, endpoint_status_reason = $3, endpoint_status_changed_at = now() WHERE client_id = $1`,
      [clientId, status, reason],
    )) as [unknown, number];
    if (!affected) throw new AppError(ErrorCode.NotFound, `client ${clientId} does not exist`);
    this.logger.warn({ clientId, status, reason }, `back-channel endpoint ${status === 'active' ? 'enabled' : 'disabled'}`);
  }
}
