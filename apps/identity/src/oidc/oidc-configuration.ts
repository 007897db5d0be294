import type { AppConfig } from '@slo/config';
import { SERVER_SCOPES } from '@slo/clients';
import { errors, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import { confirmLogoutPage, loggedOutPage } from '../logout/logout-pages';
import { escapeHtml, page } from './html';
import { OIDC_SCOPES } from './client-metadata';
import { impliedGrant } from './implied-grant';
import { OIDC_ROUTES } from './provider-routes';

interface OidcConfigurationDeps {
  config: AppConfig;
  adapter: Configuration['adapter'];
  jwks: { keys: Record<string, unknown>[] };
  findAccount: FindAccount;
}

const SIGNING_ALGS = ['RS256', 'ES256'];

/** Everything oidc-provider is told. Provider internals stay in oidc-provider; policy lives here. */
export function buildOidcConfiguration({ config, adapter, jwks, findAccount }: OidcConfigurationDeps): Configuration {
  const secure = !config.isLocal;
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true };
  const apiAudience = config.api.audience;
  return {
    adapter,
    findAccount,
    jwks: jwks as Configuration['jwks'],
    routes: OIDC_ROUTES,
    scopes: [...OIDC_SCOPES, ...SERVER_SCOPES],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    responseTypes: ['code'],
    enabledJWA: {
      idTokenSigningAlgValues: SIGNING_ALGS as never,
      userinfoSigningAlgValues: SIGNING_ALGS as never,
      requestObjectSigningAlgValues: SIGNING_ALGS as never,
      clientAuthSigningAlgValues: SIGNING_ALGS as never,
      introspectionSigningAlgValues: SIGNING_ALGS as never,
      authorizationSigningAlgValues: SIGNING_ALGS as never,
    },
    extraClientMetadata: { properties: ['web_origins'] },
    // Logout is delivered by the coordinator's pipeline (back channel) and logout pages (front channel).
    discovery: {
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      frontchannel_logout_supported: true,
      frontchannel_logout_session_supported: true,
    },
    cookies: { keys: config.identity.cookieKeys, long: cookie, short: cookie },
    pkce: { required: () => true },
    ttl: {
      AccessToken: config.identity.accessTokenTtlSeconds,
      ClientCredentials: config.identity.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 14 * 24 * 3600,
      Session: config.identity.sessionTtlSeconds,
      Grant: config.identity.sessionTtlSeconds,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      clientCredentials: { enabled: true },
      // A client may revoke only the tokens issued to it.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      introspection: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Without a valid id_token_hint the user confirms; with one the page submits itself.
        logoutSource: (ctx, form) => {
          const hint = ctx.oidc.entities.IdTokenHint;
          ctx.body = confirmLogoutPage(form, ctx.oidc.client?.clientName ?? null, Boolean(hint));
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = loggedOutPage([], null);
        },
      },
      resourceIndicators: {
        enabled: true,
        // Server tokens (client_credentials) are for the api unless another resource is named.
        defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? apiAudience : undefined),
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, indicator) => {
          if (indicator !== apiAudience) {
            throw new errors.InvalidTarget('unknown resource indicator');
          }
          // Only server tokens (client_credentials at /token) are for a resource. Accepted at /auth,
          // a resource would need a consent to its scopes that sign-in never asks for, so the
          // authorization would bounce between /auth and /interaction forever: refuse it instead.
          if (ctx.oidc.params?.grant_type !== 'client_credentials') {
            throw new errors.InvalidTarget('resource indicators are only for server tokens (grant_type=client_credentials)');
          }
          return {
            scope: SERVER_SCOPES.join(' '),
            audience: apiAudience,
            accessTokenTTL: config.identity.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    /** First-party platform: a signed-in user's consent to the requested OIDC scopes is implied. */
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const requested = [...(ctx.oidc.requestParamOIDCScopes ?? [])].filter((s) => OIDC_SCOPES.includes(s));
      return impliedGrant(
        ctx.oidc.provider,
        {
          grantId: ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId),
          accountId: session.accountId,
          clientId: client.clientId,
        },
        requested,
      );
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign-in error',
        `<h1>Something went wrong</h1><p class="error" role="alert"><strong>${escapeHtml(out.error)}</strong>${
          out.error_description ? `: ${escapeHtml(out.error_description)}` : ''
        }</p><p class="muted">Go back to the application and try again.</p>`,
      );
    },
  };
}
