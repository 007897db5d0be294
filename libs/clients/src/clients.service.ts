import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { ClientEntity, Keyset, Page, PageRequest, preparedQuery, textKey, timestampKey } from '@slo/database';
import { AppError, ErrorCode } from '@slo/errors';
import { isClientId } from '@slo/validation';
import { randomBytes } from 'node:crypto';
import { QueryFailedError, Repository } from 'typeorm';
import { AddressPolicy } from './address-policy';
import { ClientFields, CreateClientInput, UpdateClientInput } from './client-input';
import { clientProblems } from './client-rules';
import { generateClientSecret, hashClientSecret } from './client-secret';
import { clientFieldsOf } from './client-view';
import { generateWebhookSecret, sealWebhookSecret } from './webhook-secret';

/** The client list's order: newest first, then client_id (the clients_created_at_idx index). */
const BY_CREATION = new Keyset([timestampKey('c.created_at'), textKey('c.client_id', isClientId)], AppError.validation);

function applyFields(c: ClientEntity, f: ClientFields): void {
  c.name = f.client_name;
  c.redirectUris = f.redirect_uris;
  c.postLogoutRedirectUris = f.post_logout_redirect_uris;
  c.webOrigins = f.web_origins.map((o) => o.toLowerCase().replace(/\/$/, ''));
  c.backchannelLogoutUri = f.backchannel_logout_uri;
  c.backchannelLogoutSessionRequired = f.backchannel_logout_session_required;
  c.frontchannelLogoutUri = f.frontchannel_logout_uri;
  c.grantTypes = f.grant_types;
  c.tokenEndpointAuthMethod = f.token_endpoint_auth_method;
  c.serverScopes = f.server_scopes;
  c.idTokenSignedResponseAlg = f.id_token_signed_response_alg;
  c.deliveryFormat = f.delivery_format;
  c.logoutTokenTyp = f.logout_token_typ;
  c.logoutTokenSubject = f.logout_token_subject;
  c.deliveryTimeoutMs = f.delivery_timeout_ms;
  c.deliveryMaxAttempts = f.delivery_max_attempts;
  c.notifySessionExpired = f.notify_session_expired;
}

/** A client as stored, with the secrets that are shown this once (null when none was issued). */
export interface ClientWithSecrets {
  client: ClientEntity;
  secret: string | null;
  webhookSecret: string | null;
}

/** The client registry: the only writer of the `clients` table. */
@Injectable()
export class ClientsService {
  private readonly policy: AddressPolicy;

  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.policy = new AddressPolicy(config.security.backchannelAllowedHosts);
  }

  /** Registers a client. Returns it with its secret, which is shown this once. */
  async create(input: CreateClientInput): Promise<ClientWithSecrets> {
    const auth = input.token_endpoint_auth_method ?? 'client_secret_basic';
    const redirects = input.redirect_uris ?? [];
    const grantTypes: ClientFields['grant_types'] = input.grant_types ?? [
      ...(redirects.length ? (['authorization_code', 'refresh_token'] as const) : []),
      ...(auth !== 'none' ? (['client_credentials'] as const) : []),
    ];
    const fields: ClientFields = {
      client_name: input.client_name,
      redirect_uris: redirects,
      post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
      web_origins: input.web_origins ?? [],
      backchannel_logout_uri: input.backchannel_logout_uri ?? null,
      backchannel_logout_session_required: input.backchannel_logout_session_required ?? true,
      frontchannel_logout_uri: input.frontchannel_logout_uri ?? null,
      grant_types: grantTypes,
      token_endpoint_auth_method: auth,
      server_scopes: input.server_scopes ?? (grantTypes.includes('client_credentials') ? ['client:self'] : []),
      id_token_signed_response_alg: input.id_token_signed_response_alg ?? 'RS256',
      delivery_format: input.delivery_format ?? 'logout_token',
      logout_token_typ: input.logout_token_typ ?? 'logout+jwt',
      logout_token_subject: input.logout_token_subject ?? 'sid_and_sub',
      delivery_timeout_ms: input.delivery_timeout_ms ?? null,
      delivery_max_attempts: input.delivery_max_attempts ?? null,
      notify_session_expired: input.notify_session_expired ?? true,
    };
    await this.assertValid(fields);

    const client = this.clients.create({ clientId: input.client_id ?? `c_${randomBytes(12).toString('base64url')}` });
    applyFields(client, fields);
    client.status = 'active';
    client.statusReason = null;
    const secret = auth === 'none' ? null : generateClientSecret();
    client.secretHash = secret ? hashClientSecret(secret) : null;
    const webhookSecret = this.issueWebhookSecret(client);
    try {
      await this.clients.insert(client);
    } catch (err) {
      if (err instanceof QueryFailedError && (err as { code?: string }).code === '23505') {
        throw new AppError(ErrorCode.Conflict, `client_id ${client.clientId} is already registered`, [
          { field: 'client_id', problems: ['is already registered'] },
        ]);
      }
      throw err;
    }
    return { client: await this.get(client.clientId), secret, webhookSecret };
  }

  async get(clientId: string): Promise<ClientEntity> {
    const client = await this.clients.findOneBy({ clientId });
    if (!client) throw new AppError(ErrorCode.NotFound, `client ${clientId} does not exist`);
    return client;
  }

  /** An active client, or null: what the identity service may let log users in. */
  findActive(clientId: string): Promise<ClientEntity | null> {
    return this.clients.findOneBy({ clientId, status: 'active' });
  }

  /**
   * The web origins of an active client, or null when there is none: what the browser SDK's
   * endpoints check on every poll, so one prepared statement rather than a whole entity.
   */
  async activeWebOrigins(clientId: string): Promise<string[] | null> {
    const rows = await preparedQuery<{ web_origins: string[] }>(
      this.clients.manager.connection,
      'client_active_web_origins',
      "SELECT web_origins FROM clients WHERE client_id = $1 AND status = 'active'",
      [clientId],
    );
    return rows[0]?.web_origins ?? null;
  }

  /** Newest first, keyset-paginated on (created_at, client_id). */
  async list(page: PageRequest): Promise<Page<ClientEntity>> {
    const qb = this.clients.createQueryBuilder('c').addSelect(BY_CREATION.select());
    for (const column of BY_CREATION.sortColumns) qb.addOrderBy(column, 'DESC');
    const params: Record<string, string> = {};
    const after = BY_CREATION.after(page.cursor, (value) => {
      const name = `key${Object.keys(params).length}`;
      params[name] = value;
      return `:${name}`;
    });
    if (after) qb.where(after, params);
    const { entities, raw } = await qb.limit(page.limit + 1).getRawAndEntities<Record<string, unknown>>();
    return BY_CREATION.page(entities, raw, page.limit);
  }

  /** Changes a client; switching to webhook delivery issues a webhook secret (returned this once). */
  async update(clientId: string, patch: UpdateClientInput): Promise<{ client: ClientEntity; webhookSecret: string | null }> {
    const client = await this.get(clientId);
    const merged: ClientFields = { ...clientFieldsOf(client), ...stripUndefined(patch) };
    if (patch.token_endpoint_auth_method && patch.token_endpoint_auth_method !== client.tokenEndpointAuthMethod) {
      const toPublic = patch.token_endpoint_auth_method === 'none';
      const fromPublic = client.tokenEndpointAuthMethod === 'none';
      if (toPublic !== fromPublic) {
        throw AppError.validation(
          'token_endpoint_auth_method',
          'cannot switch between public and confidential; register a new client',
        );
      }
    }
    await this.assertValid(merged);
    applyFields(client, merged);
    const webhookSecret = this.issueWebhookSecret(client);
    await this.clients.save(client);
    return { client: await this.get(clientId), webhookSecret };
  }

  /**
   * Replaces the webhook signing secret; the old one keeps signing (next to the new one) for
   * `graceSeconds`, so the receiver can switch without missing a message. Returns the new secret.
   */
  async rotateWebhookSecret(clientId: string, graceSeconds: number): Promise<{ secret: string; previousValidUntil: Date }> {
    const client = await this.get(clientId);
    if (client.deliveryFormat !== 'webhook' || !client.webhookSecretEnc) {
      throw new AppError(ErrorCode.Conflict, `client ${clientId} does not use webhook delivery`);
    }
    const secret = generateWebhookSecret();
    const previousValidUntil = new Date(Date.now() + graceSeconds * 1000);
    await this.clients.update(
      { clientId },
      {
        webhookSecretPreviousEnc: client.webhookSecretEnc,
        webhookSecretPreviousUntil: previousValidUntil,
        webhookSecretEnc: sealWebhookSecret(this.config.identity.keyEncryptionKey, clientId, secret),
      },
    );
    return { secret, previousValidUntil };
  }

  /** Gives a webhook-delivery client its signing secret if it has none yet; returns the new secret. */
  private issueWebhookSecret(client: ClientEntity): string | null {
    if (client.deliveryFormat !== 'webhook' || client.webhookSecretEnc) return null;
    const secret = generateWebhookSecret();
    client.webhookSecretEnc = sealWebhookSecret(this.config.identity.keyEncryptionKey, client.clientId, secret);
    return secret;
  }

  async remove(clientId: string): Promise<void> {
    const result = await this.clients.delete({ clientId });
    if (!result.affected) throw new AppError(ErrorCode.NotFound, `client ${clientId} does not exist`);
  }

  /**
   * Replaces the secret; the old one stops working at once, and so do server tokens issued before
   * (see @slo/auth). Returns the new secret (shown once) only when the next whole second has begun:
   * tokens carry `iat` in whole seconds, so any token obtained with the new secret is then issued
   * in a second that starts after the rotation.
   */
  async rotateSecret(clientId: string): Promise<{ client: ClientEntity; secret: string }> {
    const client = await this.get(clientId);
    if (client.tokenEndpointAuthMethod === 'none') {
      throw new AppError(ErrorCode.Conflict, `client ${clientId} is a public client and has no secret`);
    }
    const secret = generateClientSecret();
    const rotatedAt = new Date();
    await this.clients.update({ clientId }, { secretHash: hashClientSecret(secret), secretRotatedAt: rotatedAt });
    const untilNextSecond = 1000 - (rotatedAt.getTime() % 1000);
    if (untilNextSecond < 1000) await new Promise((resolve) => setTimeout(resolve, untilNextSecond));
    return { client: await this.get(clientId), secret };
  }

  /**
   * Creates the operator client if it does not exist (first start). Never changes an existing one,
   * so an operator's secret rotation survives restarts.
   */
  async ensureOperatorClient(clientId: string, secret: string, name = 'Bootstrap operator'): Promise<boolean> {
    const result = await this.clients
      .createQueryBuilder()
      .insert()
      .values({
        clientId,
        name,
        secretHash: hashClientSecret(secret),
        grantTypes: ['client_credentials'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        serverScopes: ['admin', 'client:self', 'logout:emit'],
        redirectUris: [],
        postLogoutRedirectUris: [],
        webOrigins: [],
        status: 'active',
      })
      .orIgnore()
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  private async assertValid(fields: ClientFields): Promise<void> {
    const problems = await clientProblems(fields, { isLocal: this.config.isLocal }, this.policy);
    if (problems.length) throw AppError.validationMany(problems);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
