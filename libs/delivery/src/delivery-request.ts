import type { DeliveryFormat, LogoutTokenSubject, LogoutTokenTyp, LogoutTrigger } from '@slo/database';
import { LogoutTokenMinter } from './logout-token';
import { webhookHeaders } from './webhook-signature';

/** What a claimed delivery and its client say about the message to send. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  clientId: string;
  sub: string | null;
  sid: string;
  attempts: number;
  trigger: LogoutTrigger;
  occurredAt: Date;
  /** The client that asked for the logout, if any (its delivery goes first). */
  initiatorClientId?: string | null;
  uri: string | null;
  format: DeliveryFormat;
  typ: LogoutTokenTyp;
  /** Whether a logout token that names a session also names the user. */
  subject: LogoutTokenSubject;
  alg: string;
  timeoutMs: number | null;
  maxAttempts: number | null;
  endpointStatus: string;
  webhookSecrets: string[];
}

const USER_AGENT = 'slo-coordinator/1 (back-channel logout)';

/** The body and headers of one attempt: a fresh logout token, or a freshly signed webhook with a stable id. */
export async function buildRequest(
  d: ClaimedDelivery,
  issuer: string,
  minter: LogoutTokenMinter,
): Promise<{ headers: Record<string, string>; body: string }> {
  if (d.format === 'webhook') {
    const body = JSON.stringify({
      type: 'session.logout',
      timestamp: new Date().toISOString(),
      data: {
        iss: issuer,
        client_id: d.clientId,
        sub: d.sub,
        sid: d.sid || null,
        event_id: d.eventId,
        trigger: d.trigger,
        occurred_at: d.occurredAt.toISOString(),
      },
    });
    return {
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...webhookHeaders(d.webhookSecrets, d.id, body) },
      body,
    };
  }
  const token = await minter.mint({
    clientId: d.clientId,
    alg: d.alg,
    typ: d.typ,
    subject: d.subject,
    sub: d.sub,
    sid: d.sid || null,
  });
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': USER_AGENT },
    body: new URLSearchParams({ logout_token: token }).toString(),
  };
}
