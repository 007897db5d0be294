import { parseConfig } from '@slo/config';
import { consumedShards, shardOf, shardPrefix } from './shards';

/**
 * Fixed ids with their shards out of 3 and 7: the hash must never change (jobs in flight, processes
 * of two versions side by side). `abc`: SHA-1 a9993e36… (FIPS 180 test vector), 2845392438.
 */
const KNOWN: [string, number, number][] = [
  ['abc', 2845392438 % 3, 2845392438 % 7],
  ['0190f1a2-7c3e-7000-8000-000000000000', 1, 2],
  ['0190f1a2-7c3e-7000-8000-00000000000a', 0, 6],
  ['b7e3c0de-1111-4222-8333-444455556666', 0, 3],
];

describe('shardOf', () => {
  const ids = Array.from({ length: 3000 }, (_, i) => `0190f1a2-7c3e-7000-8000-${i.toString(16).padStart(12, '0')}`);

  it('puts everything on shard 0 with one shard', () => {
    for (const id of ids.slice(0, 50)) expect(shardOf(id, 1)).toBe(0);
  });

  it('is stable: the same id always lands on the same shard', () => {
    for (const [id, of3, of7] of KNOWN) {
      expect(shardOf(id, 3)).toBe(of3);
      expect(shardOf(id, 7)).toBe(of7);
    }
    for (const id of ids.slice(0, 100)) expect(shardOf(id, 5)).toBe(shardOf(id, 5));
  });

  it('stays within 0..S-1 and spreads ids evenly over the shards', () => {
    for (const shards of [2, 3, 8, 64]) {
      const counts = new Array<number>(shards).fill(0);
      for (const id of ids) {
        const s = shardOf(id, shards);
        expect(Number.isInteger(s) && s >= 0 && s < shards).toBe(true);
        counts[s] += 1;
      }
      const even = ids.length / shards;
      // Far from an even split only if the hash were skewed (binomial spread is about sqrt(even)).
      for (const n of counts) expect(Math.abs(n - even)).toBeLessThan(even * 0.5);
    }
  });
});

describe('shardPrefix', () => {
  it('is the base prefix itself with one shard (the queue of earlier versions)', () => {
    expect(shardPrefix('slo', 0, 1)).toBe('slo');
  });

  it('gives each shard a prefix of its own with more', () => {
    expect([0, 1, 2].map((i) => shardPrefix('slo', i, 3))).toEqual(['slo-s0', 'slo-s1', 'slo-s2']);
  });
});

describe('DELIVERY_SHARDS and DELIVERY_SHARDS_CONSUMED', () => {
  function problems(env: Record<string, string>): string[] {
    try {
      parseConfig(env);
      return [];
    } catch (err) {
      return (err as { problems: string[] }).problems;
    }
  }

  it('defaults to one shard, consumed whole', () => {
    const c = parseConfig({});
    expect(c.delivery.shards).toBe(1);
    expect(c.delivery.shardsConsumed).toBeUndefined();
    expect(consumedShards(c)).toEqual([0]);
    expect(consumedShards(parseConfig({ DELIVERY_SHARDS: '4' }))).toEqual([0, 1, 2, 3]);
  });

  it('takes a subset of the shards', () => {
    const c = parseConfig({ DELIVERY_SHARDS: '4', DELIVERY_SHARDS_CONSUMED: ' 3, 1 ' });
    expect(consumedShards(c)).toEqual([3, 1]);
  });

  it.each([
    ['0', 'between 1 and 64'],
    ['65', 'between 1 and 64'],
    ['-1', 'between 1 and 64'],
    ['2.5', 'must be an integer'],
    ['three', 'must be an integer'],
    ['1e1', 'must be an integer'],
  ])('refuses DELIVERY_SHARDS=%j', (value, expected) => {
    const p = problems({ DELIVERY_SHARDS: value });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^DELIVERY_SHARDS: .*${expected}`));
  });

  it.each([
    ['3', '3', 'shard 3 does not exist'],
    ['3', '0,7', 'shard 7 does not exist'],
    ['3', '1,1', 'names shard 1 twice'],
    ['3', '0,-1', 'item 2 must be between 0 and 63'],
    ['3', 'a', 'item 1 must be an integer'],
    ['3', ' , ,', 'at least 1'],
    ['64', '64', 'item 1 must be between 0 and 63'],
    ['1', '1', 'shard 1 does not exist'],
  ])('with DELIVERY_SHARDS=%s refuses DELIVERY_SHARDS_CONSUMED=%j', (shards, value, expected) => {
    const p = problems({ DELIVERY_SHARDS: shards, DELIVERY_SHARDS_CONSUMED: value });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^DELIVERY_SHARDS_CONSUMED: .*${expected}`));
  });

  it('reports a wrong DELIVERY_SHARDS once, not again through the consumed list', () => {
    expect(problems({ DELIVERY_SHARDS: '0', DELIVERY_SHARDS_CONSUMED: '0' })).toHaveLength(1);
  });
});
