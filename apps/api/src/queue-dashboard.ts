import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { ClientsService, verifyClientSecret } from '@slo/clients';
import { strictDecode } from '@slo/observability';
import { DeliveryShards, QueueName } from '@slo/queue';
import { RateLimits, sendTooManyRequests } from '@slo/ratelimit';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';

const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * The BullMQ dashboard (bull-board) for operators, behind HTTP Basic authentication with the
 * credentials of an active client that holds the `admin` server scope (browser-friendly; the
 * same credentials obtain admin server tokens). Lists every shard of the delivery queue: `delivery`
 * with one shard, `s<i>-delivery` (shard i) with more.
 */
export function mountQueueDashboard(app: INestApplication): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  const shards = app.get(DeliveryShards, { strict: false });
  const queues = [
    ...shards.queues.map((queue, i) =>
      shards.count === 1
        ? new BullMQAdapter(queue)
        : new BullMQAdapter(queue, { prefix: `s${i}-`, displayName: `delivery (shard ${i} of ${shards.count})` }),
    ),
    new BullMQAdapter(app.get<Queue>(getQueueToken(QueueName.RetryBatch), { strict: false })),
  ];
  createBullBoard({ queues, serverAdapter });
  const clients = app.get(ClientsService, { strict: false });
  const limits = app.get(RateLimits, { strict: false });
  app.use(QUEUE_DASHBOARD_PATH, adminBasicAuth(clients, limits), serverAdapter.getRouter());
}

/** Wrong secrets count per client_id in the limiter the token endpoint uses (429 with Retry-After past it). */
function adminBasicAuth(clients: ClientsService, limits: RateLimits) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const refuse = (status: number, error: string, message: string) => {
      if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="SLO Coordinator queues", charset="UTF-8"');
      res.status(status).json({ error, message });
    };
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    if (!match) return refuse(401, 'unauthenticated', 'operator client credentials (HTTP Basic) are required');
    const credentials = decodeBasic(match[1]);
    if (!credentials) return refuse(400, 'bad_request', 'the Basic credentials are not valid percent-encoded UTF-8');
    const { clientId, secret } = credentials;
    clients
      .findActive(clientId)
      .then(async (client) => {
        const locked = client && (await limits.clientAuth.check(client.clientId));
        if (locked) return sendTooManyRequests(res, locked);
        if (!client || !verifyClientSecret(client.secretHash ?? undefined, secret)) {
          const nowLocked = client && (await limits.clientAuth.fail(client.clientId));
          if (nowLocked) return sendTooManyRequests(res, nowLocked);
          return refuse(401, 'unauthenticated', 'unknown client or wrong secret');
        }
        if (!client.serverScopes.includes('admin'))
          return refuse(403, 'insufficient_scope', 'the queue dashboard needs an admin client');
        next();
      })
      .catch(next);
  };
}

/** `client_id:secret`, each percent-decoded as for client_secret_basic (RFC 6749 §2.3.1); null when not valid percent-encoded UTF-8 (a 400, not a crash). */
function decodeBasic(token68: string): { clientId: string; secret: string } | null {
  const decoded = Buffer.from(token68, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [clientId, secret] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
  const [id, pw] = [strictDecode(clientId), strictDecode(secret)];
  return id === null || pw === null ? null : { clientId: id, secret: pw };
}
