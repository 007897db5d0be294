import { SPiDError } from './errors';
import type { InitOptions } from './types';

const DEFAULT_POLL_INTERVAL_MS = 30_000;
const DEFAULT_CACHE_TTL_MS = 5_000;
const MIN_POLL_INTERVAL_MS = 100;

export interface Settings {
  server: string;
  clientId: string;
  redirectUri?: string;
  pollInterval: number;
  cacheTtl: number;
}

/** Checks `SPiD.init` options; every problem is an `invalid_options` error naming the option. */
export function parseOptions(options: InitOptions): Settings {
  if (!options || typeof options !== 'object') throw invalid('SPiD.init needs an options object');
  const server = absoluteUrl(options.server, 'server');
  if (server.search || server.hash) throw invalid('server must not have a query or fragment');
  if (typeof options.client_id !== 'string' || !options.client_id.trim()) throw invalid('client_id is required');
  const redirectUri = options.redirect_uri === undefined ? undefined : absoluteUrl(options.redirect_uri, 'redirect_uri').href;
  return {
    server: server.href.replace(/\/+$/, ''),
    clientId: options.client_id,
    redirectUri,
    pollInterval: interval(options.pollInterval, 'pollInterval', DEFAULT_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS),
    cacheTtl: interval(options.cacheTtl, 'cacheTtl', DEFAULT_CACHE_TTL_MS, 0),
  };
}

export function absoluteUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string' || !value) throw invalid(`${name} is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${name} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${name} must be an http(s) URL`);
  return url;
}

function interval(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalid(`${name} must be a number of milliseconds (0 or more)`);
  if (value === 0) return 0;
  if (value < min) throw invalid(`${name} must be 0 (off) or at least ${min} ms`);
  return value;
}

const invalid = (message: string) => new SPiDError('invalid_options', message);
