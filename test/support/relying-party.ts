import express from 'express';
import { auth, type ConfigParams } from 'express-openid-connect';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore } from '../../apps/demo/src/memory-store';

export interface RelyingParty {
  url: string;
  clientId: string;
  /** Back-channel logout requests the app received, with its answer. */
  backchannelHits: number[];
  close(): Promise<void>;
}

/**
 * A relying party built with express-openid-connect (a library none of us wrote), back-channel
 * logout enabled: `/login`, `/callback`, `/logout` (RP-initiated), `/backchannel-logout`, and
 * `/profile`, which answers 200 with the user or 401 once the app has logged the user out.
 */
export async function startRelyingParty(opts: {
  issuer: string;
  clientId: string;
  clientSecret: string;
  port: number;
}): Promise<RelyingParty> {
  const app = express();
  const hits: number[] = [];
  const baseURL = `http://127.0.0.1:${opts.port}`;
  app.use('/backchannel-logout', (req, res, next) => {
    res.on('finish', () => hits.push(res.statusCode));
    next();
  });
  const config: ConfigParams = {
    issuerBaseURL: opts.issuer,
    baseURL,
    clientID: opts.clientId,
    clientSecret: opts.clientSecret,
    secret: `rp-cookie-secret-${opts.clientId}-0123456789abcdef`,
    authRequired: false,
    idpLogout: true,
    backchannelLogout: { store: new MemoryStore() as never },
    authorizationParams: { response_type: 'code', scope: 'openid email' },
  };
  app.use(auth(config));
  app.get('/profile', (req, res) => {
    if (!req.oidc.isAuthenticated()) return void res.status(401).json({ logged_in: false });
    res.json({ logged_in: true, sub: req.oidc.user?.sub, sid: req.oidc.idTokenClaims?.sid });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(opts.port, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clientId: opts.clientId,
    backchannelHits: hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
