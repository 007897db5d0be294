import { UsersService } from '@slo/accounts';
import {
  ApiClient,
  DeliveryRow,
  FAST_DELIVERY_ENV,
  HttpSession,
  sql,
  Sql,
  startTestStack,
  TestStack,
  waitForDelivery,
} from '@slo/testing';
import { createApiApp } from '../../apps/api/src/api.app';
import { createIdentityApp } from '../../apps/identity/src/identity.app';
import { createWorkerApp } from '../../apps/worker/src/worker.app';
import { hiddenInputs, Page } from './browse';
import { RelyingParty } from './relying-party';

/** What the browser logout tests share: the stack, an admin client on the api, SQL on its database. */
export interface LogoutStack {
  stack: TestStack;
  admin: ApiClient;
  db: Sql;
}

/** Identity, api and worker with fast deliveries (and `env`), and `user` created. */
export async function startLogoutStack(
  user: { email: string; password: string; name: string },
  env: Record<string, string> = {},
): Promise<LogoutStack> {
  const stack = await startTestStack({
    identity: createIdentityApp,
    api: createApiApp,
    worker: createWorkerApp,
    env: { ...FAST_DELIVERY_ENV, ...env },
  });
  await stack.identity.get(UsersService).create(user);
  return { stack, admin: stack.client(await stack.serverToken('admin')), db: sql(stack) };
}

/** The status of the app's `/profile` in `browser`: 200 while the app has the user signed in, 401 once it logged them out. */
export async function profile(browser: HttpSession, rp: RelyingParty): Promise<number> {
  return (await browser.request(`${rp.url}/profile`)).status;
}

/** Whether identity still holds session `sid`. */
export async function sessionAlive(db: Sql, sid: string): Promise<boolean> {
  return (await db("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [sid])).length === 1;
}

/** Waits until every delivery of logout event `eventId` is delivered; returns them ordered by client id. */
export async function deliveredOf(stack: TestStack, eventId: string): Promise<DeliveryRow[]> {
  const rows = await waitForDelivery(stack, { event_id: eventId }, 'delivered');
  return rows.sort((x, y) => x.client_id.localeCompare(y.client_id));
}

/** Submits identity's logout confirmation form (`op.logoutForm`) on `page` with "yes", as the user's click would. */
export function confirmLogout(session: HttpSession, page: Page): Promise<Response> {
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page.html)![1];
  return session.postForm(new URL(action, page.url).href, { ...hiddenInputs(page.html), logout: 'yes' });
}
