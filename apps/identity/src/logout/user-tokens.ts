import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClientsService } from '@slo/clients';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { SigningKeyEntity } from '@slo/database';
import { hashStoredId } from '@slo/sessions';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { DataSource } from 'typeorm';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.factory';

/** A user's access token as the provider stored it. */
export interface UserToken {
  clientId: string;
  accountId: string;
  grantId: string;
  sessionUid: string | null;
}

/**
 * Token checks of the logout endpoints: user access tokens (opaque, stored by the provider) and
 * server tokens (JWTs for the api, verified against the identity's own public keys).
 */
@Injectable()
export class LogoutTokens {
  private jwks: { set: ReturnType<typeof createLocalJWKSet>; at: number } | null = null;

  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly clients: ClientsService,
  ) {}

  /** The live user access token, or null (unknown, expired, revoked, or not a user's token). */
  async findUserToken(value: string): Promise<UserToken | null> {
    const token = await this.provider.AccessToken.find(value);
    if (!token || token.isExpired || !token.accountId || !token.grantId) return null;
    return {
      clientId: token.clientId!,
      accountId: token.accountId,
      grantId: token.grantId,
      sessionUid: token.sessionUid ?? null,
    };
  }

  /** Revokes the grant behind a user token: the token itself, its refresh tokens and the grant. */
  async revokeGrant(grantId: string): Promise<void> {
    // The Grant row is stored under the hash of its id (PgOidcAdapter).
    await this.db.query(`DELETE FROM oidc_payloads WHERE grant_id = $1 OR (model = 'Grant' AND id = $2)`, [
      grantId,
      hashStoredId(this.config.identity.tokenHashKey, grantId),
    ]);
  }

  /** The client behind a valid server token carrying `scope`, or null. */
  async serverTokenClient(value: string, scope: string): Promise<string | null> {
    try {
      const { payload } = await jwtVerify(value, await this.keySet(), {
        issuer: this.config.identity.issuer,
        audience: this.config.api.audience,
        typ: 'at+jwt',
      });
      const scopes = String(payload.scope ?? '').split(' ');
      if (!scopes.includes(scope) || payload.sub !== payload.client_id) return null;
      const client = await this.clients.findActive(String(payload.client_id));
      return client ? client.clientId : null;
    } catch {
      return null;
    }
  }

  private async keySet(): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (!this.jwks || Date.now() - this.jwks.at > 60_000) {
      const rows = await this.db.getRepository(SigningKeyEntity).find();
      this.jwks = { set: createLocalJWKSet({ keys: rows.map((r) => r.publicJwk) } as JSONWebKeySet), at: Date.now() };
    }
    return this.jwks.set;
  }
}
