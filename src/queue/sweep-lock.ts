// A Redis lease that keeps one sweep at a time across machines. It is taken with
// a random token, and only a holder that still has that token extends or releases
// it (compare-and-set in Lua): a sweep that outlived its lease never deletes the
// lease a newer sweep took meanwhile. One key per script, so it works on a cluster.
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './connection.ts';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export interface Lease {
  /** Keeps the lease for another ttlMs; false when it lapsed and someone else may hold it. */
  extend(): Promise<boolean>;
  /** Gives the lease up, if it is still ours. */
  release(): Promise<void>;
}

/** Takes the lease at `key` for ttlMs, or undefined when another holder has it. */
export async function tryLease(redis: RedisClient, key: string, ttlMs: number): Promise<Lease | undefined> {
  const token = randomBytes(16).toString('hex');
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
  return {
    async extend() {
      return (await redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1;
    },
    async release() {
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}
