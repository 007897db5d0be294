import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError, ErrorCode } from '@slo/observability';
import { DataSource } from 'typeorm';

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

/** How a client's back-channel endpoint is doing, from the delivery records; and switching it off and on. */
@Injectable()
export class EndpointHealthService {
  private readonly logger = new Logger(EndpointHealthService.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

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

  /**
   * Retention: deletes delivered deliveries (their attempts go with them) older than `days`, and
   * events left without deliveries, in small batches so no lock is held for long.
   */
  async pruneDelivered(days: number, batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const [, deleted] = (await this.db.query(
        `DELETE FROM deliveries WHERE id IN (
           SELECT id FROM deliveries WHERE status = 'delivered' AND delivered_at < now() - make_interval(days => $1) LIMIT $2)`,
        [days, batch],
      )) as [unknown, number];
      total += deleted;
      if (deleted < batch) break;
    }
    for (;;) {
      const [, deleted] = (await this.db.query(
        `DELETE FROM logout_events WHERE id IN (
           SELECT e.id FROM logout_events e WHERE e.created_at < now() - make_interval(days => $1)
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2)`,
        [days, batch],
      )) as [unknown, number];
      if (deleted < batch) break;
    }
    if (total) this.logger.log(`pruned ${total} delivered deliveries older than ${days} days`);
    return total;
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
