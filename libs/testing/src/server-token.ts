import { TEST_ADMIN } from './test-env';

/** A client's credentials: as `serverToken` takes them, or a registered client's own fields. */
export type ClientCredentials = { clientId: string; secret: string } | { client_id: string; client_secret: string };

/** `Authorization: Basic` for a client, its id and secret form-encoded as RFC 6749 §2.3.1 asks. */
export function basicAuth(client: ClientCredentials): string {
  const [id, secret] = 'clientId' in client ? [client.clientId, client.secret] : [client.client_id, client.client_secret];
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The raw answer of identity's token endpoint to a client-credentials request (for tests of refusals). */
export function requestServerToken(
  identityUrl: string,
  scope: string,
  client: ClientCredentials = TEST_ADMIN,
): Promise<Response> {
  return fetch(`${identityUrl}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
}

/** A server token with `scope` for the bootstrap admin (or `client`); throws with the error body when refused. */
export async function serverToken(identityUrl: string, scope: string, client: ClientCredentials = TEST_ADMIN): Promise<string> {
  const res = await requestServerToken(identityUrl, scope, client);
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
