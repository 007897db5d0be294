import { recordParticipation } from '@slo/sessions';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';

interface SessionBoundToken {
  sessionUid?: string;
  accountId?: string;
}

/**
 * Provider middleware: when the token endpoint hands a client tokens that belong to a session,
 * record that the client takes part in it, so it is told when the session ends. Runs before the
 * response is sent; if the record cannot be written the client gets an error instead of tokens.
 */
export function participationMiddleware(db: DataSource) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200 || !ctx.oidc.client) return;
    const entities = ctx.oidc.entities as { AuthorizationCode?: SessionBoundToken; RefreshToken?: SessionBoundToken };
    const source = entities.AuthorizationCode ?? entities.RefreshToken;
    if (!source?.sessionUid || !source.accountId) return;
    await recordParticipation(db, { sid: source.sessionUid, sub: source.accountId, clientId: ctx.oidc.client.clientId });
  };
}
