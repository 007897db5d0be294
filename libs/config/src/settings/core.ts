import { bool, hostPortList, oneOf, str, url } from '../parsers';
import type { Setting } from '../setting';

/** Environment, stores, logging. */
export const CORE_SETTINGS = [
  {
    env: 'NODE_ENV',
    path: 'env',
    description: 'development, test or production; anything but production is local development',
    default: 'development',
    parse: oneOf('development', 'test', 'production'),
  },
  {
    env: 'DATABASE_URL',
    path: 'database.url',
    description: 'PostgreSQL connection URL',
    default: 'postgres://postgres@127.0.0.1:5432/slo',
    parse: url('postgres:', 'postgresql:'),
  },
  {
    env: 'REDIS_URL',
    path: 'redis.url',
    description: 'Redis connection URL (BullMQ transport)',
    default: 'redis://127.0.0.1:6379',
    parse: url('redis:', 'rediss:'),
  },
  {
    env: 'REDIS_CLUSTER_NODES',
    path: 'redis.clusterNodes',
    description:
      'Redis Cluster seed nodes, host:port,... (unset: the single Redis of REDIS_URL). When set it takes precedence: every connection is a cluster connection to these nodes, and REDIS_URL gives only the user name, password and TLS (rediss:) for every node',
    optional: true,
    parse: hostPortList,
  },
  {
    env: 'QUEUE_PREFIX',
    path: 'redis.prefix',
    description: 'prefix of every BullMQ key in Redis',
    default: 'slo',
    parse: str({ minLength: 1 }),
  },
  {
    env: 'LOG_LEVEL',
    path: 'log.level',
    description: 'fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  {
    env: 'LOG_PRETTY',
    path: 'log.pretty',
    description: 'human-readable logs instead of JSON lines',
    default: 'false',
    parse: bool,
  },
  {
    env: 'LOG_FILE',
    path: 'log.file',
    description: 'append the JSON log lines to this file instead of writing them to standard output (unset: standard output)',
    optional: true,
    parse: str({ minLength: 1 }),
  },
] as const satisfies readonly Setting[];
