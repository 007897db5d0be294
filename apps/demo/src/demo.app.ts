import express, { type Express } from 'express';
import { auth, type ConfigParams } from 'express-openid-connect';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoSettings } from './demo-config';
import { DEMO_SCRIPT, renderDemoPage } from './demo-page';
import { MemoryStore } from './memory-store';

/**
 * The demo client application: signs users in with OIDC (express-openid-connect), ends its own
 * session on back-channel logout, and serves a page that uses the SPiD SDK from identity.
 */
export function createDemoApp(settings: DemoSettings): Express {
  const app = express();
  app.disable('x-powered-by');
  const config: ConfigParams = {
    issuerBaseURL: settings.identityUrl,
    baseURL: settings.baseUrl,
    clientID: settings.clientId,
    clientSecret: settings.clientSecret,
    secret: settings.cookieSecret,
    authRequired: false,
    idpLogout: true,
    backchannelLogout: { store: new MemoryStore() as never },
    authorizationParams: { response_type: 'code', scope: 'openid email' },
    routes: { postLogoutRedirect: '/' },
  };
  app.use(auth(config));

  app.get('/', (req, res) => {
    // Absent parameters leave the SDK's defaults (tests pass short intervals).
    const poll = req.query.poll === undefined ? undefined : Number(req.query.poll);
    const cache = req.query.cache === undefined ? undefined : Number(req.query.cache);
    const problem =
      poll !== undefined && (!Number.isInteger(poll) || (poll !== 0 && poll < 100))
        ? 'poll: must be 0 (off) or a whole number of milliseconds from 100'
        : cache !== undefined && (!Number.isInteger(cache) || cache < 0)
          ? 'cache: must be a whole number of milliseconds'
          : null;
    if (problem) return void res.status(400).json({ error: 'validation_failed', message: problem });
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(
      renderDemoPage(settings, {
        appUser: req.oidc.isAuthenticated() ? String(req.oidc.user?.email ?? req.oidc.user?.sub) : null,
        pollInterval: poll,
        cacheTtl: cache,
      }),
    );
  });
  app.get('/demo.js', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/javascript').send(DEMO_SCRIPT);
  });
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());
  app.get('/me', (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!req.oidc.isAuthenticated()) return void res.json({ logged_in: false });
    res.json({ logged_in: true, sub: req.oidc.user?.sub, sid: req.oidc.idTokenClaims?.sid });
  });
  return app;
}

export interface RunningDemo {
  url: string;
  close(): Promise<void>;
}

/** Starts the demo on `settings.port` (every interface unless `host` is given). */
export async function startDemo(settings: DemoSettings, host?: string): Promise<RunningDemo> {
  const app = createDemoApp(settings);
  const server: Server = await new Promise((resolve, reject) => {
    const s = host ? app.listen(settings.port, host) : app.listen(settings.port);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  return {
    url: `http://${host ?? 'localhost'}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
