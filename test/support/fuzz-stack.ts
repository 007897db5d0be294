import { createApiApp } from '../../apps/api/src/api.app';
import { createIdentityApp } from '../../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import { HttpSession, RegisteredClient, registerClient, signIn, SignedIn, startTestStack, TestStack } from '@slo/testing';

/** Set FUZZ_SEED to reproduce a run (the seed is printed with every report). */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
export const USER = { email: 'fuzz-user@example.com', password: 'fuzz user password 1' };
export const REDIRECT = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT = 'http://127.0.0.1:9/';
export const ORIGIN = 'http://127.0.0.1:9';

export interface FuzzStack {
  stack: TestStack;
  /** An admin server token with every scope of the api. */
  admin: string;
  /** The relying party the identity requests use, and a sign-in of USER with it. */
  rp: RegisteredClient;
  signed: SignedIn;
}

/** Identity and api with USER, the relying party `fuzz-rp` signed in once, and `fuzz-target`, the client the api's paths name. */
export async function startFuzzStack(): Promise<FuzzStack> {
  const stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
  await stack.identity.get(UsersService).create({ ...USER, name: 'Fuzz' });
  const admin = await stack.serverToken('admin client:self logout:emit');
  const api = stack.client(admin);
  const rp = await registerClient(api, null, 'fuzz-rp', {
    client_name: 'Fuzz RP',
    redirect_uris: [REDIRECT],
    post_logout_redirect_uris: [POST_LOGOUT],
    web_origins: [ORIGIN],
  });
  await registerClient(api, null, 'fuzz-target', { client_name: 'Fuzz target', redirect_uris: undefined });
  const signed = await signIn(stack, new HttpSession(), rp, USER);
  return { stack, admin, rp, signed };
}
