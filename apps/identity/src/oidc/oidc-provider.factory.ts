import { Logger, Provider as NestProvider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { UsersService } from '@slo/accounts';
import { ClientsService, verifyClientSecret } from '@slo/clients';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { SigningKeysService } from '@slo/keys';
import { classifyOutage } from '@slo/errors';
import { PgOidcAdapter } from '@slo/sessions';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { DataSource } from 'typeorm';
import { findAccountWith } from './account';
import { toOidcClientMetadata } from './client-metadata';
import { buildOidcConfiguration } from './oidc-configuration';
import { OIDC_PROVIDER } from './oidc-provider.token';
import { participationMiddleware } from './participation.middleware';

interface SessionWithSid {
  uid: string;
  sidFor(clientId: string, value?: string): string | undefined;
}

/** Reads clients from the registry, so a client registered through the api can log users in at once. */
class ClientRegistryAdapter implements Partial<Adapter> {
  constructor(private readonly clients: ClientsService) {}
  async find(id: string): Promise<AdapterPayload | undefined> {
    const client = await this.clients.findActive(id);
    return client ? (toOidcClientMetadata(client) as AdapterPayload) : undefined;
  }
  async upsert(): Promise<void> {
    throw new Error('clients are registered through the api, not through the provider');
  }
  async destroy(): Promise<void> {
    throw new Error('clients are removed through the api, not through the provider');
  }
}

export const oidcProviderFactory: NestProvider = {
  provide: OIDC_PROVIDER,
  inject: [APP_CONFIG, getDataSourceToken(), SigningKeysService, UsersService, ClientsService],
  useFactory: async (
    config: AppConfig,
    db: DataSource,
    keys: SigningKeysService,
    users: UsersService,
    clients: ClientsService,
  ): Promise<Provider> => {
    const logger = new Logger('OidcProvider');
    await keys.ensureActiveKeys();
    if (config.bootstrap.clientSecret) {
      const created = await clients.ensureOperatorClient(config.bootstrap.clientId, config.bootstrap.clientSecret);
      if (created) logger.log(`created bootstrap operator client ${config.bootstrap.clientId}`);
    }
    const provider = new Provider(
      config.identity.issuer,
      buildOidcConfiguration({
        config,
        jwks: { keys: await keys.privateJwks() },
        findAccount: findAccountWith(users),
        adapter: ((model: string) =>
          model === 'Client'
            ? new ClientRegistryAdapter(clients)
            : new PgOidcAdapter(model, db, config.identity.tokenHashKey)) as never,
      }),
    );
    provider.proxy = config.security.trustProxy > 0;
    // As for Express (createHttpApp): only the addresses the trusted proxies appended count.
    provider.maxIpsCount = config.security.trustProxy;
    // Secrets are stored hashed: compare the presented secret against the hash the adapter returned.
    provider.Client.prototype.compareClientSecret = function compare(this: { clientSecret?: string }, actual: string) {
      return verifyClientSecret(this.clientSecret, actual);
    };
    // Every ID token carries `sid`, so relying parties can match back-channel logout tokens to sessions.
    provider.Client.prototype.includeSid = () => true;
    // One `sid` per identity session, shared by all its clients (oidc-provider would mint one per client):
    // a logout then names one session everywhere, and participation is recorded under that one id.
    provider.Session.prototype.ensureClientContainer = function ensure(this: SessionWithSid, clientId: string) {
      if (!this.sidFor(clientId)) this.sidFor(clientId, this.uid);
    };
    provider.use(participationMiddleware(db));
    // An unreachable store is answered with a 503 and logged once per outage (OidcMiddleware, outage.ts).
    provider.on(
      'server_error',
      (_ctx, err) => classifyOutage(err) || logger.error({ err }, `provider server_error: ${err.message}`),
    );
    return provider;
  },
};
