import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AddressPolicy, openWebhookSecret } from '@slo/clients';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { preparedQuery, type AttemptOutcome, type AttemptTrigger, type DeliveryStatus } from '@slo/database';
import { SigningKeysService } from '@slo/keys';
import { REDIS } from '@slo/queue';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { retryAfterMs, retryDelayMs } from './backoff';
import { DeliveryMetrics } from './delivery-metrics';
import { buildRequest, ClaimedDelivery } from './delivery-request';
import { EndpointGuard } from './endpoint-guard';
import { HttpSender, SendResult } from './http-sender';
import { LogoutTokenMinter } from './logout-token';
import { isEndpointFailure, verdictOf } from './outcome-policy';

/** What became of one run of a delivery job. */
export type RunResult =
  | { kind: 'finished'; status: DeliveryStatus | 'not_open' }
  /** Try again at `at` (epoch ms): a scheduled retry, or a send held back by the breaker or the endpoint limit. */
  | { kind: 'later'; at: number; reason: 'retry' | 'breaker_open' | 'endpoint_busy' }
  /** A manual attempt that may not run now (in flight, already delivered, endpoint disabled). */
  | { kind: 'refused' };

/** Longest a send slot or a claim is held by a worker that died mid-send. */
const LEASE_MARGIN_MS = 10_000;
const SLOT_LEASE_MS = 60_000 + LEASE_MARGIN_MS;

/** Claims a delivery for one attempt; `condition` says from which states. */
const claimSql = (condition: string) => `
  UPDATE deliveries d
     SET status = 'delivering', lease_until = now() + make_interval(secs => $2::double precision / 1000), updated_at = now()
    FROM clients c, logout_events e
   WHERE d.id = $1 AND c.client_id = d.client_id AND e.id = d.event_id AND (${condition})
  RETURNING d.id, d.event_id, d.client_id, d.sub, d.sid, d.attempts, e.trigger, e.occurred_at,
            c.backchannel_logout_uri, c.delivery_format, c.logout_token_typ, c.id_token_signed_response_alg,
            c.delivery_timeout_ms, c.delivery_max_attempts, c.endpoint_status, c.webhook_secret_enc,
            CASE WHEN c.webhook_secret_previous_until > now() THEN c.webhook_secret_previous_enc END AS webhook_secret_previous_enc`;

/** The worker's claim: open deliveries, or one whose sender died mid-send. */
const CLAIM_SQL = claimSql("d.status IN ('pending', 'retrying') OR (d.status = 'delivering' AND d.lease_until < now())");
/** An operator's claim: anything not in flight; a delivered one only when forced ($3). */
const MANUAL_CLAIM_SQL = claimSql(
  "NOT (d.status = 'delivering' AND d.lease_until >= now()) AND ($3::boolean OR d.status <> 'delivered') AND c.endpoint_status = 'active' AND c.backchannel_logout_uri IS NOT NULL",
);

const RECORD_SQL = `
  WITH attempt AS (
    INSERT INTO delivery_attempts
      (id, delivery_id, number, trigger, started_at, duration_ms, status_code, error_class, outcome, response_excerpt)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  )
  UPDATE deliveries
     SET status = $11::varchar, attempts = $3, next_attempt_at = $12, lease_until = NULL, last_attempt_at = $5,
         last_status_code = $7, last_error = $8, delivered_at = CASE WHEN $11::varchar = 'delivered' THEN now() ELSE delivered_at END,
         updated_at = now()
   WHERE id = $2`;

interface ClaimRow {
  id: string;
  event_id: string;
  client_id: string;
  sub: string | null;
  sid: string;
  attempts: number;
  trigger: ClaimedDelivery['trigger'];
  occurred_at: Date;
  backchannel_logout_uri: string | null;
  delivery_format: ClaimedDelivery['format'];
  logout_token_typ: ClaimedDelivery['typ'];
  id_token_signed_response_alg: string;
  delivery_timeout_ms: number | null;
  delivery_max_attempts: number | null;
  endpoint_status: string;
  webhook_secret_enc: string | null;
  webhook_secret_previous_enc: string | null;
}

/**
 * Runs one delivery attempt end to end: admission (circuit breaker, per-endpoint limit), claim in
 * PostgreSQL, a fresh token or signature, the send, the outcome policy, and one attempt row plus
 * the delivery's new state, written together.
 */
@Injectable()
export class DeliveryService implements OnModuleDestroy {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly sender: HttpSender;
  private readonly minter: LogoutTokenMinter;
  readonly guard: EndpointGuard;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) redis: Redis,
    keys: SigningKeysService,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.sender = new HttpSender(new AddressPolicy(config.security.backchannelAllowedHosts));
    this.minter = new LogoutTokenMinter(config.identity.issuer, keys);
    this.guard = new EndpointGuard(redis, {
      prefix: config.redis.prefix,
      concurrency: config.delivery.endpointConcurrency,
      failureThreshold: config.delivery.breakerThreshold,
      cooldownMs: config.delivery.breakerCooldownMs,
    });
  }

  onModuleDestroy(): void {
    this.sender.close();
  }

  async run(deliveryId: string, clientId: string, trigger: AttemptTrigger = 'scheduled'): Promise<RunResult> {
    const admission = await this.guard.admit(clientId, deliveryId, SLOT_LEASE_MS);
    if (!admission.admitted) {
      // Held back, not attempted: no attempt is used up. Spread the wake-ups a little.
      const at = admission.retryAt + Math.floor(Math.random() * 250);
      if (admission.reason === 'breaker_open') {
        await this.db.query(`UPDATE deliveries SET next_attempt_at = $2 WHERE id = $1 AND status IN ('pending', 'retrying')`, [
          deliveryId,
          new Date(at),
        ]);
      }
      return { kind: 'later', at, reason: admission.reason };
    }
    try {
      const claimed = await this.claim(deliveryId);
      if (!claimed) return { kind: 'finished', status: 'not_open' };
      if (!claimed.uri || claimed.endpointStatus !== 'active') {
        await this.db.query(
          `UPDATE deliveries SET status = 'skipped', lease_until = NULL, next_attempt_at = NULL, last_error = $2, updated_at = now() WHERE id = $1`,
          [deliveryId, claimed.uri ? 'endpoint_disabled' : 'no_backchannel_uri'],
        );
        return { kind: 'finished', status: 'skipped' };
      }
      return await this.attempt(claimed, trigger).catch(async (err: unknown) => {
        // Give the claim back so BullMQ's retry of this job (or the relay) can run it again at once.
        await this.releaseClaim(deliveryId);
        throw err;
      });
    } finally {
      await admission.release();
    }
  }

  /**
   * One manual attempt now, with a fresh token, recorded as `manual`. Refused (409) while the
   * delivery is in flight, when it was delivered (unless forced), or when its endpoint is disabled.
   */
  async retryNow(deliveryId: string, force: boolean): Promise<RunResult> {
    const rows = await preparedQuery<ClaimRow>(this.db, 'delivery_manual_claim', MANUAL_CLAIM_SQL, [
      deliveryId,
      60_000 + LEASE_MARGIN_MS,
      force,
    ]);
    if (!rows[0]) return { kind: 'refused' };
    const claimed = this.toClaimed(rows[0]);
    return this.attempt(claimed, 'manual').catch(async (err: unknown) => {
      await this.releaseClaim(deliveryId);
      throw err;
    });
  }

  private async releaseClaim(deliveryId: string): Promise<void> {
    await this.db
      .query(
        `UPDATE deliveries SET status = CASE WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END, lease_until = NULL
          WHERE id = $1 AND status = 'delivering'`,
        [deliveryId],
      )
      .catch(() => undefined);
  }

  private async claim(deliveryId: string): Promise<ClaimedDelivery | null> {
    const rows = await preparedQuery<ClaimRow>(this.db, 'delivery_claim', CLAIM_SQL, [deliveryId, 60_000 + LEASE_MARGIN_MS]);
    return rows[0] ? this.toClaimed(rows[0]) : null;
  }

  private toClaimed(r: ClaimRow): ClaimedDelivery {
    return {
      id: r.id,
      eventId: r.event_id,
      clientId: r.client_id,
      sub: r.sub,
      sid: r.sid,
      attempts: r.attempts,
      trigger: r.trigger,
      occurredAt: r.occurred_at,
      uri: r.backchannel_logout_uri,
      format: r.delivery_format,
      typ: r.logout_token_typ,
      alg: r.id_token_signed_response_alg,
      timeoutMs: r.delivery_timeout_ms,
      maxAttempts: r.delivery_max_attempts,
      endpointStatus: r.endpoint_status,
      // During a rotation's grace period both secrets sign, so receivers holding either one verify.
      webhookSecrets: [r.webhook_secret_enc, r.webhook_secret_previous_enc]
        .filter((sealed): sealed is string => Boolean(sealed))
        .map((sealed) => openWebhookSecret(this.config.identity.keyEncryptionKey, r.client_id, sealed)),
    };
  }

  private async attempt(d: ClaimedDelivery, trigger: AttemptTrigger): Promise<RunResult> {
    const number = d.attempts + 1;
    const startedAt = new Date();
    const { headers, body } = await buildRequest(d, this.config.identity.issuer, this.minter);
    const result = await this.sender.send({
      url: d.uri!,
      headers,
      body,
      timeoutMs: d.timeoutMs ?? this.config.delivery.timeoutMs,
    });
    await this.guard.record(d.clientId, isEndpointFailure(result));

    const verdict = verdictOf(result);
    const maxAttempts = d.maxAttempts ?? this.config.delivery.maxAttempts;
    let status: DeliveryStatus;
    let outcome: AttemptOutcome;
    let nextAt: number | null = null;
    if (verdict === 'delivered') [status, outcome] = ['delivered', 'delivered'];
    else if (verdict === 'rejected') [status, outcome] = ['rejected', 'rejected'];
    else if (verdict === 'gone' || number >= maxAttempts) [status, outcome] = ['dead', 'dead'];
    else {
      [status, outcome] = ['retrying', 'retry'];
      const backoff = this.config.delivery;
      const asked = result.ok ? retryAfterMs(result.retryAfter, backoff.retryAfterMaxMs) : null;
      nextAt = Date.now() + (asked ?? retryDelayMs(number, { baseMs: backoff.backoffBaseMs, maxMs: backoff.backoffMaxMs }));
    }
    const errorClass = describeFailure(result);
    this.metrics.attempts.inc({ outcome });
    this.metrics.attemptDuration.observe({ outcome }, result.durationMs / 1000);
    await preparedQuery(this.db, 'delivery_record', RECORD_SQL, [
      uuidv7(),
      d.id,
      number,
      trigger,
      startedAt,
      result.durationMs,
      result.ok ? result.statusCode : null,
      errorClass,
      outcome,
      result.ok ? result.excerpt || null : result.message.slice(0, 1024),
      status,
      nextAt === null ? null : new Date(nextAt),
    ]);
    if (verdict === 'gone') await this.disableEndpoint(d.clientId, `the endpoint answered 410 Gone to delivery ${d.id}`);
    if (status === 'dead') {
      this.logger.warn({ deliveryId: d.id, clientId: d.clientId, attempts: number, error: errorClass }, 'delivery is dead');
    }
    return nextAt === null ? { kind: 'finished', status } : { kind: 'later', at: nextAt, reason: 'retry' };
  }

  private async disableEndpoint(clientId: string, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE clients SET endpoint_status = 'disabled', endpoint_status_reason = $2, endpoint_status_changed_at = now()
        WHERE client_id = $1 AND endpoint_status = 'active'`,
      [clientId, reason],
    );
    this.logger.warn({ clientId, reason }, 'back-channel endpoint disabled');
  }
}

/** The error class recorded with an attempt: null for 2xx, `http_<status>` for other answers. */
function describeFailure(result: SendResult): string | null {
  if (!result.ok) return result.errorClass;
  return result.statusCode >= 200 && result.statusCode < 300 ? null : `http_${result.statusCode}`;
}
