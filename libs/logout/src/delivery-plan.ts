import type { DeliveryStatus } from '@slo/database';

/** A client that took part in an ended session. */
export interface Participant {
  clientId: string;
  sid: string;
  sub: string;
}

/** What the plan needs to know about a candidate client. */
export interface TargetClient {
  clientId: string;
  backchannelLogoutUri: string | null;
  sessionRequired: boolean;
  endpointDisabled: boolean;
  notifySessionExpired: boolean;
}

export interface PlannedDelivery {
  clientId: string;
  sub: string | null;
  /** '' when the token names only `sub` (every session of the subject). */
  sid: string;
  status: Extract<DeliveryStatus, 'pending' | 'skipped'>;
  lastError: string | null;
}

export interface PlanInput {
  /** The event's subject, if known. */
  sub: string | null;
  /** The one session that ended; null when every session of `sub` ended. */
  sid: string | null;
  participants: Participant[];
  /** Every client named by participants or explicit targets. */
  clients: Map<string, TargetClient>;
  /** Explicitly named targets (external events); they are told even without recorded participation. */
  explicitTargets?: string[];
  /** A session that expired is told only to clients that asked for it. */
  sessionExpired?: boolean;
}

/**
 * Who is told what. One delivery per client with a back-channel endpoint, naming the ended
 * session; when every session of the subject ended, a client that requires `sid` gets one
 * delivery per session it took part in, the others one token naming only `sub`.
 * Deliveries to a disabled endpoint are recorded as skipped, so they can be recovered later.
 */
export function planDeliveries(input: PlanInput): PlannedDelivery[] {
  const explicit = input.explicitTargets ? new Set(input.explicitTargets) : null;
  const sessionsByClient = new Map<string, Participant[]>();
  for (const p of input.participants) {
    if (explicit && !explicit.has(p.clientId)) continue;
    sessionsByClient.set(p.clientId, [...(sessionsByClient.get(p.clientId) ?? []), p]);
  }
  for (const clientId of explicit ?? []) if (!sessionsByClient.has(clientId)) sessionsByClient.set(clientId, []);

  const plan: PlannedDelivery[] = [];
  for (const [clientId, sessions] of sessionsByClient) {
    const client = input.clients.get(clientId);
    if (!client?.backchannelLogoutUri) continue;
    if (input.sessionExpired && !client.notifySessionExpired) continue;
    const status = client.endpointDisabled ? 'skipped' : 'pending';
    const lastError = client.endpointDisabled ? 'endpoint_disabled' : null;
    const subOf = (s?: Participant) => input.sub ?? s?.sub ?? null;
    if (input.sid !== null) {
      plan.push({ clientId, sub: subOf(sessions[0]), sid: input.sid, status, lastError });
    } else if (client.sessionRequired && sessions.length > 0) {
      for (const sid of new Set(sessions.map((s) => s.sid)))
        plan.push({ clientId, sub: subOf(sessions[0]), sid, status, lastError });
    } else {
      plan.push({ clientId, sub: subOf(sessions[0]), sid: '', status, lastError });
    }
  }
  return plan;
}
