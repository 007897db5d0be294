import { ApiClient } from './api-client';
import { TestClient } from './oidc-sign-in';
import { Receiver } from './receiver';

/** A client as the api registered it, with its one-time secret and the redirect URI sign-in uses. */
export type RegisteredClient = TestClient & Record<string, unknown>;

/**
 * Registers `clientId` through `POST /v1/clients` (expecting 201) as a relying party with a
 * redirect URI on a closed port and, given a receiver, its back channel at
 * `<receiver>/<clientId>/backchannel`. `extra` adds or overrides fields (undefined drops one).
 * The result goes straight into `signIn` and `serverToken`.
 */
export async function registerClient(
  admin: ApiClient,
  receiver: Receiver | null,
  clientId: string,
  extra: Record<string, unknown> = {},
): Promise<RegisteredClient> {
  const body = await admin.post<RegisteredClient & { redirect_uris?: string[] }>('/v1/clients', {
    body: {
      client_id: clientId,
      client_name: clientId,
      redirect_uris: [`http://127.0.0.1:9/${clientId}/callback`],
      ...(receiver ? { backchannel_logout_uri: `${receiver.url}/${clientId}/backchannel` } : {}),
      ...extra,
    },
    expect: 201,
  });
  return { ...body, redirect_uri: body.redirect_uris?.[0] ?? '' };
}
