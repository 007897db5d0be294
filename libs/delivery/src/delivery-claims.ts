import { openWebhookSecret } from '@slo/clients';
import { preparedQuery } from '@slo/database';
import type { DataSource } from 'typeorm';
import type { ClaimedDelivery } from './delivery-request';

const RETURNING = `
  RETURNING d.id, d.event_id, d.client_id, d.sub, d.sid, d.attempts, e.trigger, e.occurred_at, e.initiator_client_id,
            c.backchannel_logout_uri, c.delivery_format, c.logout_token_typ, c.logout_token_subject, c.id_token_signed_response_alg,
            c.delivery_timeout_ms, c.delivery_max_attempts, c.endpoint_status, c.webhook_secret_enc,
            CASE WHEN c.webhook_secret_previous_until > now() THEN c.webhook_secret_previous_enc END AS webhook_secret_previous_enc`;

/**
 * Claims for one attempt; `where` says which deliveries. The lease ($2 s at least) covers the
 * client's delivery timeout plus the longest wait for its endpoint ($3 ms default timeout, $4 s wait).
 */
const claimSql = (where: string) => `
  UPDATE deliveries d
     SET status = 'delivering', updated_at = now(),
         lease_until = now() + make_interval(secs => greatest($2::double precision,
                                 coalesce(c.delivery_timeout_ms, $3::int)::double precision / 1000 + $4::double precision))
    FROM clients c, logout_events e
   WHERE c.client_id = d.client_id AND e.id = d.event_id AND ${where}
  ${RETURNING}`;

const OPEN = "(d.status IN ('pending', 'retrying') OR (d.status = 'delivering' AND d.lease_until < now()))";
/** Fan-out: every open, due delivery of one event, in one statement. */
const EVENT_CLAIM_SQL = claimSql(`d.event_id = $1 AND d.next_attempt_at <= now() AND ${OPEN}`);
/** A delivery job: the one delivery, if it still has the attempt count the job was scheduled for ($5). */
const RETRY_CLAIM_SQL = claimSql(`d.id = $1 AND d.attempts = $5 AND ${OPEN}`);
/** An operator's claim: anything not in flight; a delivered one only when forced ($5). */
const MANUAL_CLAIM_SQL = claimSql(
  "d.id = $1 AND NOT (d.status = 'delivering' AND d.lease_until >= now()) AND ($5::boolean OR d.status <> 'delivered') AND c.endpoint_status = 'active' AND c.backchannel_logout_uri IS NOT NULL",
);

interface ClaimRow {
  id: string;
  event_id: string;
  client_id: string;
  sub: string | null;
  sid: string;
  attempts: number;
  trigger: ClaimedDelivery['trigger'];
  occurred_at: Date;
  initiator_client_id: string | null;
  backchannel_logout_uri: string | null;
  delivery_format: ClaimedDelivery['format'];
  logout_token_typ: ClaimedDelivery['typ'];
  logout_token_subject: ClaimedDelivery['subject'];
  id_token_signed_response_alg: string;
  delivery_timeout_ms: number | null;
  delivery_max_attempts: number | null;
  endpoint_status: string;
  webhook_secret_enc: string | null;
  webhook_secret_previous_enc: string | null;
}

export interface ClaimSettings {
  /** The shortest lease of a claim (DELIVERY_LEASE_SECONDS). */
  leaseSeconds: number;
  /** The delivery timeout of a client that sets none. */
  defaultTimeoutMs: number;
  /** The longest a send waits for its endpoint, in seconds. */
  waitSeconds: number;
  /** Opens the clients' sealed webhook secrets. */
  keyEncryptionKey: Buffer;
}

/**
 * The claims that start an attempt: each sets its deliveries to 'delivering' under a lease and
 * returns them with what their client says about the message.
 */
export class DeliveryClaims {
  constructor(
    private readonly db: DataSource,
    private readonly settings: ClaimSettings,
  ) {}

  /** Every open, due delivery of one event (a fan-out job). */
  event(eventId: string): Promise<ClaimedDelivery[]> {
    return this.claim('delivery_claim_event', EVENT_CLAIM_SQL, [eventId]);
  }

  /** The one delivery, if it still has the attempt count its job was scheduled for. */
  retry(deliveryId: string, attempts: number): Promise<ClaimedDelivery[]> {
    return this.claim('delivery_claim_retry', RETRY_CLAIM_SQL, [deliveryId, attempts]);
  }

  /** An operator's claim of one delivery (a delivered one only when forced). */
  manual(deliveryId: string, force: boolean): Promise<ClaimedDelivery[]> {
    return this.claim('delivery_claim_manual', MANUAL_CLAIM_SQL, [deliveryId, force]);
  }

  private async claim(name: string, sql: string, params: unknown[]): Promise<ClaimedDelivery[]> {
    const [id, ...rest] = params;
    const { leaseSeconds, defaultTimeoutMs, waitSeconds } = this.settings;
    const rows = await preparedQuery<ClaimRow>(this.db, name, sql, [id, leaseSeconds, defaultTimeoutMs, waitSeconds, ...rest]);
    return rows.map((r) => this.toClaimed(r));
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
      initiatorClientId: r.initiator_client_id,
      uri: r.backchannel_logout_uri,
      format: r.delivery_format,
      typ: r.logout_token_typ,
      subject: r.logout_token_subject,
      alg: r.id_token_signed_response_alg,
      timeoutMs: r.delivery_timeout_ms,
      maxAttempts: r.delivery_max_attempts,
      endpointStatus: r.endpoint_status,
      // During a rotation's grace period both secrets sign, so receivers holding either one verify.
      webhookSecrets: [r.webhook_secret_enc, r.webhook_secret_previous_enc]
        .filter((sealed): sealed is string => Boolean(sealed))
        .map((sealed) => openWebhookSecret(this.settings.keyEncryptionKey, r.client_id, sealed)),
    };
  }
}
