import { basicAuth, ClientCredentials } from '@slo/testing';

/** The claims of a JWT, read without verifying it. */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
}

/** A form POST to identity's token endpoint (or `path`, such as `/token/revocation`) with `client`'s Basic credentials. */
export function tokenRequest(
  identityUrl: string,
  client: ClientCredentials,
  form: Record<string, string>,
  path = '/token',
): Promise<Response> {
  return fetch(`${identityUrl}${path}`, {
    method: 'POST',
    headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}
