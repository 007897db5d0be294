import { HttpSession } from '@slo/testing';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { ClientMetadata } from 'oidc-provider';
import { cpuBetween, sampleCpu, type CpuSample } from '../cpu';
import { DeadEndpoint } from '../receivers';
import { freePort, ROOT } from '../stack';
import {
  CellResult,
  CellSpec,
  claimsOf,
  clientIds,
  HANGING_CLIENT,
  pkce,
  postLogoutUriOf,
  redirectUriOf,
  runLogouts,
  startReceivers,
  timeLogout,
  type Expected,
} from './cell';
import { Cleanups, stopProcess } from './cleanup';
import type { LogoutOptions } from './options';
import type { PeerMessage, PeerStart, PeerStats } from './peer';

interface PeerClient {
  client_id: string;
  client_secret: string;
  redirect_uri: string;
}

/**
 * One authorization code flow through the peer's dev interactions: the login form (any login and
 * password) when the browser has no session yet, the consent form every client asks for once,
 * then the code exchange (client_secret_basic, PKCE) so the client holds a grant in the session.
 */
async function peerSignIn(
  issuer: string,
  browser: HttpSession,
  client: PeerClient,
  login: string,
): Promise<{ idToken: string; sid: string }> {
  const { verifier, challenge } = pkce();
  let res = await browser.follow(
    `${issuer}/auth?${new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: client.redirect_uri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`,
    issuer,
  );
  for (let step = 0; res.status === 200; step++) {
    const html = await res.text();
    const action = /<form[^>]* action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1];
    if (!action || !prompt || step > 3) throw new Error(`peer: unexpected interaction page: ${html.slice(0, 300)}`);
    const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt };
    const posted = await browser.postForm(new URL(action, issuer).href, form);
    const next = posted.headers.get('location');
    if (!next) throw new Error(`peer: ${prompt} form answered ${posted.status} without a redirect`);
    res = await browser.follow(new URL(next, issuer).href, issuer);
  }
  const location = res.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`peer: no authorization code: ${res.status} ${location ?? (await res.text()).slice(0, 300)}`);
  const tokenRes = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: client.redirect_uri,
    }),
  });
  const tokens = (await tokenRes.json()) as { id_token?: string };
  if (tokenRes.status !== 200 || !tokens.id_token) {
    throw new Error(`peer: token exchange failed: ${tokenRes.status} ${JSON.stringify(tokens)}`);
  }
  const sid = claimsOf(tokens.id_token).sid;
  if (typeof sid !== 'string') throw new Error('peer: the ID token carries no sid');
  return { idToken: tokens.id_token, sid };
}

/**
 * One cell of the peer: a plain oidc-provider in its own process with the same N (+ hanging)
 * clients configured statically. Each logout: a fresh browser signs in with client 1 (login and
 * consent), every other client by SSO (consent + code exchange), then RP-initiated logout:
 * `GET /session/end` with id_token_hint and post_logout_redirect_uri, and the confirming
 * `POST /session/end/confirm` (xsrf, logout=yes) is timed; oidc-provider sends every back-channel
 * logout inside that request.
 */
export async function runPeerCell(
  spec: CellSpec,
  opts: LogoutOptions,
  cleanups: Cleanups,
  log: (msg: string) => void,
): Promise<CellResult> {
  const receivers = await startReceivers(opts.receivers);
  cleanups.add('receivers', () => receivers.close());
  const dead = spec.hanging ? await DeadEndpoint.start() : null;
  if (dead) cleanups.add('hanging endpoint', () => dead.close());

  const ids = [...clientIds(spec.n), ...(dead ? [HANGING_CLIENT] : [])];
  const clients: PeerClient[] = ids.map((id) => ({
    client_id: id,
    client_secret: randomBytes(32).toString('base64url'),
    redirect_uri: redirectUriOf(id),
  }));
  const metadata: ClientMetadata[] = clients.map((c, i) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    client_name: c.client_id,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: [c.redirect_uri],
    post_logout_redirect_uris: [postLogoutUriOf(c.client_id)],
    backchannel_logout_uri: c.client_id === HANGING_CLIENT ? dead!.url : receivers.uriFor(i, c.client_id),
    backchannel_logout_session_required: true,
  }));

  const port = await freePort();
  const child = fork(resolve(__dirname, 'peer.ts'), [], {
    cwd: ROOT,
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // oidc-provider's NOTICE lines only say that one of its defaults is in use, which is the point here.
  const forward = (chunk: Buffer) =>
    process.stderr.write(
      chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l && !l.includes('oidc-provider NOTICE: default '))
        .map((l) => `[peer] ${l}\n`)
        .join(''),
    );
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  cleanups.add('peer', () => stopProcess(child, 5_000));
  const exited = once(child, 'exit').then(() => Promise.reject(new Error('the peer process exited (see its output above)')));
  exited.catch(() => undefined);
  const next = () => Promise.race([once(child, 'message').then(([m]) => m as PeerMessage), exited]);

  const ready = next();
  child.send({ type: 'start', port, clients: metadata } satisfies PeerStart);
  const first = await Promise.race([
    ready,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the peer did not start within 60 s')), 60_000)),
  ]);
  if (first.type !== 'ready') throw new Error('the peer did not start');
  const issuer = first.issuer;

  const returning = clients[0];
  const returnTo = postLogoutUriOf(returning.client_id);
  let before: CpuSample | null = null;
  const samples = await runLogouts(
    opts.warmup,
    opts.logouts,
    async () => {
      const browser = new HttpSession();
      const expected: Expected[] = [];
      let idTokenHint = '';
      for (const client of clients) {
        const signed = await peerSignIn(issuer, browser, client, 'bench-user');
        if (client === returning) idTokenHint = signed.idToken;
        if (client.client_id !== HANGING_CLIENT) expected.push({ clientId: client.client_id, sid: signed.sid });
      }
      const page = await browser.request(
        `${issuer}/session/end?${new URLSearchParams({
          id_token_hint: idTokenHint,
          client_id: returning.client_id,
          post_logout_redirect_uri: returnTo,
        })}`,
      );
      const html = await page.text();
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
      const action = /<form id="op\.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
      if (page.status !== 200 || !xsrf || !action) {
        throw new Error(`peer: expected the logout confirmation page, got ${page.status}: ${html.slice(0, 300)}`);
      }
      const confirm = new URL(action, issuer).href;
      return timeLogout(() => browser.postForm(confirm, { xsrf, logout: 'yes' }), returnTo, receivers, expected, opts.deadlineMs);
    },
    log,
    () => (before = sampleCpu({})),
  );
  const cpu = cpuBetween(before, sampleCpu({}));

  const statsAnswer = next();
  child.send({ type: 'stats' });
  const stats = (await Promise.race([
    statsAnswer,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the peer did not answer stats')), 10_000)),
  ])) as PeerStats;
  const notes = [
    `peer reported ${stats.backchannelSuccess} back-channel successes, ${stats.backchannelError} errors` +
      (stats.errors.length ? ` (e.g. ${stats.errors[0]})` : ''),
  ];
  if (receivers.unreadable) notes.push(`${receivers.unreadable} back-channel POSTs without a readable sid`);
  return {
    spec,
    samples,
    hangingConnections: dead ? dead.requests : null,
    waitNote: 'notifies every client inside the confirming request (Promise.all, 2.5 s timeout each)',
    duplicates: receivers.duplicates,
    busyShare: cpu?.busyShare ?? NaN,
    stealShare: cpu?.stealShare ?? NaN,
    notes,
  };
}
