import type Provider from 'oidc-provider';
import type { Grant } from 'oidc-provider';

/**
 * Registered clients are the platform's own applications: a signed-in user's consent to the
 * OIDC scopes and claims they ask for is implied. Returns the user's grant for the client with
 * those added; writes it only when it is new or changed (this runs on every authorization).
 */
export async function impliedGrant(
  provider: Provider,
  ref: { grantId?: string; accountId: string; clientId: string },
  scopes: string[],
  claims: string[] = [],
): Promise<Grant> {
  const existing = ref.grantId ? await provider.Grant.find(ref.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ accountId: ref.accountId, clientId: ref.clientId });
  const before = `${grant.getOIDCScope()}|${grant.getOIDCClaims().join(' ')}`;
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  if (claims.length) grant.addOIDCClaims(claims);
  if (!existing || `${grant.getOIDCScope()}|${grant.getOIDCClaims().join(' ')}` !== before) await grant.save();
  return grant;
}
