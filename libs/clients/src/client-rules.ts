import { FieldProblem } from '@slo/errors';
import { uriListProblems } from '@slo/validation';
import { AddressPolicy } from './address-policy';
import { ClientFields } from './client-input';
import { backchannelUriProblem, originProblem, Resolver, uriProblem, UriRules } from './uri-policy';

/**
 * Checks a complete client record (after defaults or a merge with the stored one) and returns
 * every problem, each naming its field. Empty when the record is acceptable.
 */
export async function clientProblems(
  c: ClientFields,
  rules: UriRules,
  policy: AddressPolicy,
  resolve?: Resolver,
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  const add = (field: string, problem: string) => problems.push({ field, problems: [problem] });

  const checkList = (field: string, values: string[], check: (v: string) => string | null) => {
    for (const p of uriListProblems(field, values, check)) add(p.field, p.problem);
  };
  checkList('redirect_uris', c.redirect_uris, (v) => uriProblem(v, rules));
  checkList('post_logout_redirect_uris', c.post_logout_redirect_uris, (v) => uriProblem(v, rules));
  checkList('web_origins', c.web_origins, (v) => originProblem(v, rules));
  if (c.frontchannel_logout_uri !== null) {
    const p = uriProblem(c.frontchannel_logout_uri, rules);
    if (p) add('frontchannel_logout_uri', p);
  }
  if (c.backchannel_logout_uri !== null) {
    const p = await backchannelUriProblem(c.backchannel_logout_uri, rules, policy, resolve);
    if (p) add('backchannel_logout_uri', p);
  }

  const grants = new Set(c.grant_types);
  const confidential = c.token_endpoint_auth_method !== 'none';
  if (grants.has('authorization_code') && c.redirect_uris.length === 0) {
    add('redirect_uris', 'must list at least one URI when grant_types includes authorization_code');
  }
  if (grants.has('refresh_token') && !grants.has('authorization_code')) {
    add('grant_types', 'refresh_token requires authorization_code');
  }
  if (grants.has('client_credentials') && !confidential) {
    add('grant_types', 'client_credentials requires a confidential client (token_endpoint_auth_method other than none)');
  }
  if (c.server_scopes.length > 0 && !grants.has('client_credentials')) {
    add('server_scopes', 'server scopes require the client_credentials grant');
  }
  if (grants.size === 0) add('grant_types', 'must list at least one grant type');
  return problems;
}
