/**
 * The peer of the logout benchmark, in its own process (forked by bench/logout/peer-cell.ts):
 * a plain `oidc-provider` with its built-in back-channel logout, dev interactions for the login
 * and consent pages, RP-initiated logout, its in-memory adapter and development signing key, and
 * the clients it is sent, configured statically. Every other setting is the library's default.
 *
 * One change, needed to reach loopback receivers at all: oidc-provider's outgoing requests use an
 * SSRF-guarding dispatcher that destroys connections to loopback and private addresses (our
 * worker's BACKCHANNEL_ALLOWED_HOSTS=127.0.0.1 lifts the same kind of guard). `fetch` drops that
 * dispatcher and uses Node's default one; everything else oidc-provider sets stays (its 2.5 s
 * timeout signal, headers, body).
 *
 * Protocol (IPC): the parent sends `{ type: 'start', port, clients }`; the child answers
 * `{ type: 'ready', issuer }`. `{ type: 'stats' }` is answered with the back-channel outcomes
 * oidc-provider reported. The child exits when the parent disconnects.
 */
import type { ClientMetadata, Configuration, default as ProviderClass } from 'oidc-provider';
import { createServer } from 'node:http';

export interface PeerStart {
  type: 'start';
  port: number;
  clients: ClientMetadata[];
}
export interface PeerStats {
  type: 'stats';
  backchannelSuccess: number;
  backchannelError: number;
  errors: string[];
}
export type PeerMessage = { type: 'ready'; issuer: string } | PeerStats;

// oidc-provider is an ES module; under ts-node's CommonJS output a plain import() would become require().
const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

async function start(msg: PeerStart): Promise<void> {
  const { default: Provider } = (await importModule('oidc-provider')) as { default: typeof ProviderClass };
  const issuer = `http://127.0.0.1:${msg.port}`;
  const configuration: Configuration = {
    clients: msg.clients,
    features: {
      backchannelLogout: { enabled: true },
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    fetch: (input, init) => {
      const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(input, rest);
    },
  };
  const provider = new Provider(issuer, configuration);
  const stats: PeerStats = { type: 'stats', backchannelSuccess: 0, backchannelError: 0, errors: [] };
  provider.on('backchannel.success', () => stats.backchannelSuccess++);
  provider.on('backchannel.error', (_ctx: unknown, err: Error, client: { clientId: string }) => {
    stats.backchannelError++;
    if (stats.errors.length < 5) stats.errors.push(`${client.clientId}: ${err.message}`);
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => process.stderr.write(`server_error: ${err.stack}\n`));
  const server = createServer(provider.callback());
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(msg.port, '127.0.0.1', resolve));
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stats') process.send!(stats);
  });
  process.send!({ type: 'ready', issuer } satisfies PeerMessage);
}

process.once('message', (m: PeerStart) => {
  if (m?.type !== 'start') return;
  start(m).catch((err: Error) => {
    process.stderr.write(`peer failed to start: ${err.stack}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
