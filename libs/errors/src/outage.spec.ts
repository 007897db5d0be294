import { Logger } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { classifyOutage, DependencyTracker, DependencyUnavailableError, outages } from './outage';

describe('classifyOutage', () => {
  const net = (code: string, port: number) => Object.assign(new Error(`connect ${code} 127.0.0.1:${port}`), { code, port });

  it('recognises pg and TypeORM connection failures as postgres', () => {
    const samples = [
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      new QueryFailedError('SELECT 1', [], Object.assign(new Error('server closed the connection'), { code: '08006' })),
    ];
    for (const err of samples) expect(classifyOutage(err)).toBe('postgres');
  });

  it('recognises ioredis and BullMQ connection failures as redis', () => {
    const samples = [
      new Error('Connection is closed.'),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      Object.assign(new Error('Reached the max retries per request limit (which is 20).'), { name: 'MaxRetriesPerRequestError' }),
      new DependencyUnavailableError('redis', 'enqueue: no answer from Redis within 2000 ms'),
    ];
    for (const err of samples) expect(classifyOutage(err)).toBe('redis');
  });

  it('attributes socket errors by the port of a registered store, and only then', () => {
    const unregister = [outages.register('postgres', async () => 1, 15432), outages.register('redis', async () => 1, 16379)];
    try {
      expect(classifyOutage(net('ECONNREFUSED', 15432))).toBe('postgres');
      expect(classifyOutage(new AggregateError([net('ECONNREFUSED', 16379)], 'connect failed'))).toBe('redis');
      expect(classifyOutage(net('ECONNREFUSED', 8080))).toBeNull();
    } finally {
      for (const u of unregister) u();
    }
  });

  it('leaves statement, constraint and programming errors alone', () => {
    const samples = [
      new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key value'), { code: '23505' })),
      Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' }),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      'a string',
      null,
    ];
    for (const err of samples) expect(classifyOutage(err)).toBeNull();
  });
});

describe('DependencyTracker', () => {
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const settle = () => new Promise((r) => setImmediate(r));

  it('logs one line per outage and one per recovery however many failures are reported', async () => {
    const tracker = new DependencyTracker();
    let reachable = false;
    const unregister = tracker.register('redis', async () => {
      if (!reachable) throw new Error('Connection is closed.');
    });
    for (let i = 0; i < 50; i++) tracker.reportFailure('redis', new Error('Connection is closed.'));
    await settle();
    expect(tracker.isDown('redis')).toBe(true);
    for (let i = 0; i < 50; i++) tracker.reportFailure('redis', new Error('Connection is closed.'));
    tracker.observe('redis', false, new Error('ping failed'));
    reachable = true;
    tracker.observe('redis', true);
    await settle();
    expect(tracker.isDown('redis')).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/^redis is unreachable: Connection is closed/);
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0][0]).toMatch(/^redis is reachable again after/);
    unregister();
  });

  it('ignores a reported failure that a probe contradicts (a stale error of a replaced connection)', async () => {
    const tracker = new DependencyTracker();
    const unregister = tracker.register('postgres', async () => 1);
    tracker.reportFailure('postgres', new Error('Connection terminated unexpectedly'));
    await settle();
    expect(tracker.isDown('postgres')).toBe(false);
    expect(warn).not.toHaveBeenCalled();
    unregister();
  });

  it('starts no outage for a failed health check that a probe round contradicts (one slow answer under load)', async () => {
    const tracker = new DependencyTracker();
    let up = true;
    const unregister = tracker.register('redis', async () => {
      if (!up) throw new Error('Connection is closed.');
    });
    tracker.observe('redis', false, new Error('ping timed out after 1000 ms'));
    await settle();
    expect(tracker.isDown('redis')).toBe(false);
    expect(warn).not.toHaveBeenCalled();
    up = false;
    tracker.observe('redis', false, new Error('ping timed out after 1000 ms'));
    await settle();
    expect(tracker.isDown('redis')).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    unregister();
  });

  it('ends an outage only when every probe of the process answers', async () => {
    const tracker = new DependencyTracker();
    let second = false;
    const u1 = tracker.register('redis', async () => 1);
    const u2 = tracker.register('redis', async () => {
      if (!second) throw new Error('Connection is closed.');
    });
    tracker.observe('redis', false, new Error('ping failed'));
    tracker.observe('redis', true);
    await settle();
    expect(tracker.isDown('redis')).toBe(true);
    second = true;
    tracker.observe('redis', true);
    await settle();
    expect(tracker.isDown('redis')).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledTimes(1);
    u1();
    u2();
  });
});
