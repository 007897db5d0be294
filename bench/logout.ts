/**
 * Logout benchmark: `npm run bench:logout [-- --name=value]` (--help lists the options).
 *
 * Compares our `GET /logout` with a plain oidc-provider's RP-initiated logout and its built-in
 * back-channel logout. Per cell (implementation × N healthy clients × with/without one client
 * whose back-channel endpoint never answers × our wait mode), every logout starts from a fresh
 * browser that signs in with client 1 through the login form and then with every other client by
 * SSO (authorize + code exchange, so all of them take part in the session). Then the logout is
 * timed, without following its redirect:
 *   answer          request start → response headers;
 *   last notify     request start → the last healthy client's loopback receiver got its POST
 *                   for the session (the hanging client is not waited for; a client not told
 *                   within --deadline-ms is a failure);
 *   told before     client 1 (the app the user returns to) had its POST before the answer.
 * Ours: a fresh database and queue prefix, identity and one worker from source in their own
 * processes, `GET /logout?client_id=<client 1>&redirect_uri=<its redirect URI>`, with
 * LOGOUT_REDIRECT_WAIT_MS=0 (`off`) and with the setting unset (`default`, whatever the config's
 * default is). Peer (bench/logout/peer.ts): oidc-provider with its own defaults in its own
 * process; `GET /session/end` then the timed `POST /session/end/confirm` (logout=yes).
 * Prints one table and the checks; exits 1 if a check fails.
 */
import 'reflect-metadata';
import { loadConfigFromProcess, type AppConfig } from '@slo/config';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSdk } from '../scripts/build-sdk';
import { CellResult, CellSpec, cellName } from './logout/cell';
import { Cleanups, runActiveCleanups, setActiveCleanups } from './logout/cleanup';
import { parseOptions, USAGE, UsageError, type LogoutOptions } from './logout/options';
import { runOursCell } from './logout/ours';
import { runPeerCell } from './logout/peer-cell';
import { report } from './logout/report';

const log = (msg: string) => process.stderr.write(`${msg}\n`);

function cells(opts: LogoutOptions): CellSpec[] {
  const out: CellSpec[] = [];
  for (const n of opts.n) {
    for (const hanging of opts.hanging) {
      if (opts.impls.includes('ours')) for (const wait of opts.modes) out.push({ impl: 'ours', n, hanging, wait });
      if (opts.impls.includes('peer')) out.push({ impl: 'peer', n, hanging, wait: 'inline' });
    }
  }
  return out;
}

async function runCell(spec: CellSpec, base: AppConfig, sdkDir: () => Promise<string>, opts: LogoutOptions): Promise<CellResult> {
  const name = cellName(spec);
  const cellLog = (msg: string) => log(`[${name}] ${msg}`);
  const cleanups = new Cleanups(cellLog);
  setActiveCleanups(cleanups);
  const started = Date.now();
  cellLog(`starting (${opts.warmup} warm-up + ${opts.logouts} measured logouts)`);
  try {
    const result =
      spec.impl === 'ours'
        ? await runOursCell(spec, base, await sdkDir(), opts, cleanups, cellLog)
        : await runPeerCell(spec, opts, cleanups, cellLog);
    cellLog(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return result;
  } finally {
    await cleanups.run();
    setActiveCleanups(null);
  }
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  const opts = parsed;
  const base = loadConfigFromProcess();
  let sdk: Promise<string> | null = null;
  const sdkDir = () =>
    (sdk ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'slo-bench-logout-sdk-'));
      await buildSdk(dir);
      return dir;
    })());
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up…`);
    void runActiveCleanups()
      .then(() => (sdk ? sdk.then((dir) => rm(dir, { recursive: true, force: true })) : undefined))
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: CellResult[] = [];
  try {
    for (const spec of cells(opts)) results.push(await runCell(spec, base, sdkDir, opts));
  } finally {
    if (sdk) await rm(await sdk, { recursive: true, force: true });
  }
  const { text, failed } = report(opts, results);
  console.log(text);
  if (failed) process.exitCode = 1;
}

main().catch((err: Error) => {
  console.error(err instanceof UsageError ? err.message : `logout bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
