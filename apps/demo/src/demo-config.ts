/**
 * The demo app stands in for a customer's web application: it talks to the coordinator only
 * through public interfaces (OIDC, the SDK served by identity, back-channel logout) and so
 * reads its own few settings instead of the coordinator's libs/config.
 */
export interface DemoSettings {
  /** Where the demo is reached in the browser; its redirect URIs and web origin derive from it. */
  baseUrl: string;
  port: number;
  /** Identity's public URL (the OIDC issuer). */
  identityUrl: string;
  clientId: string;
  clientSecret: string;
  /** Encrypts the demo's own session cookie. */
  cookieSecret: string;
}

const DEMO_DEFAULTS = {
  port: 3000,
  baseUrl: 'http://localhost:3000',
  identityUrl: 'http://localhost:4000',
  clientId: 'demo-app',
};

/** Demo settings from the environment; throws one line per problem. */
export function demoSettingsFromEnv(env: NodeJS.ProcessEnv): DemoSettings {
  const problems: string[] = [];
  const port = Number(env.DEMO_PORT ?? DEMO_DEFAULTS.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push('DEMO_PORT: must be a port number');
  const baseUrl = env.DEMO_BASE_URL ?? (env.DEMO_PORT ? `http://localhost:${port}` : DEMO_DEFAULTS.baseUrl);
  const identityUrl = env.DEMO_IDENTITY_URL ?? env.IDENTITY_ISSUER ?? DEMO_DEFAULTS.identityUrl;
  for (const [name, value] of [
    ['DEMO_BASE_URL', baseUrl],
    ['DEMO_IDENTITY_URL', identityUrl],
  ]) {
    if (!URL.canParse(value)) problems.push(`${name}: must be an absolute URL`);
  }
  const clientSecret = env.DEMO_CLIENT_SECRET ?? '';
  if (!clientSecret) problems.push('DEMO_CLIENT_SECRET: is required (npm run cli -- seed-demo prints it)');
  if (problems.length) throw new Error(`invalid demo configuration:\n  ${problems.join('\n  ')}`);
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    port,
    identityUrl: identityUrl.replace(/\/+$/, ''),
    clientId: env.DEMO_CLIENT_ID ?? DEMO_DEFAULTS.clientId,
    clientSecret,
    cookieSecret: env.DEMO_COOKIE_SECRET ?? `demo-cookie-${clientSecret}`,
  };
}
