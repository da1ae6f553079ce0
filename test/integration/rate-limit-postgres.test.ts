// The Postgres store of the shared rate limiter beyond the suite it shares with
// Redis (embed-service.test.ts): many acquirers on two pools (two processes'
// worth of connections) never admit more than the budget in any window, as
// recorded by the server itself; a spent budget refills as its entries age out;
// the "wait this long" answers name the moment enough budget frees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createPostgresRateLimiter } from '../../src/queue/rate-limit-postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
let a: Pool;
let b: Pool;

interface Admission {
  key: string;
  at_ms: string;
  requests: number;
  tokens: string;
}

beforeAll(async () => {
  db = await createTestDatabase();
  a = createPool(db.url, { max: 4 });
  b = createPool(db.url, { max: 4 });
  // Every admission as the server recorded it (its clock), kept after the limiter prunes it.
  await a.query(`
    CREATE TABLE public.admitted AS SELECT * FROM sluice.rate_admissions WITH NO DATA;
    CREATE FUNCTION public.record_admission() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO public.admitted SELECT NEW.*; RETURN NEW; END $$;
    CREATE TRIGGER record AFTER INSERT ON sluice.rate_admissions
      FOR EACH ROW EXECUTE FUNCTION public.record_admission();`);
});

afterAll(async () => {
  await a?.end();
  await b?.end();
  await db?.drop();
});

/** What the server admitted for a limiter's key (default prefix `sluice`). */
async function admitted(key: string) {
  const { rows } = await a.query<Admission>('SELECT * FROM public.admitted WHERE key = $1 ORDER BY at_ms', [
    `sluice:${key}`,
  ]);
  return rows.map((r) => ({ at: Number(r.at_ms), requests: r.requests, tokens: Number(r.tokens) }));
}

/** Largest request and token totals admitted within any span of `windowMs`. */
function peaks(rows: Array<{ at: number; requests: number; tokens: number }>, windowMs: number) {
  let requests = 0;
  let tokens = 0;
  for (const r of rows) {
    const inWindow = rows.filter((q) => q.at <= r.at && q.at > r.at - windowMs);
    requests = Math.max(
      requests,
      inWindow.reduce((n, q) => n + q.requests, 0),
    );
    tokens = Math.max(
      tokens,
      inWindow.reduce((n, q) => n + q.tokens, 0),
    );
  }
  return { requests, tokens };
}

describe('shared rate limiter on Postgres', () => {
  it('many acquirers on two pools never admit more than the budget in any window', async () => {
    const key = 'contended';
    const budget = { requestsPerWindow: 4, tokensPerWindow: 250, windowMs: 300, marginMs: 50 };
    const limiters = [a, a, b, b].map((pool) => createPostgresRateLimiter(pool, { key, ...budget }));
    let left = 30;
    // 16 acquirers at once, 4 per limiter, each taking until 30 admissions are done.
    await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const limiter = limiters[i % limiters.length]!;
        while (left > 0) {
          left--;
          const permit = await limiter.acquire({ requests: 1, tokens: 20 + ((i * 37) % 80) });
          await permit.settle();
        }
      }),
    );
    const rows = await admitted(key);
    expect(rows.length).toBeGreaterThanOrEqual(30);
    const spent = rows.reduce((n, r) => n + r.requests, 0);
    expect(spent).toBeGreaterThan(3 * budget.requestsPerWindow); // the budget really was the bottleneck
    const peak = peaks(rows, budget.windowMs + budget.marginMs);
    expect(peak.requests).toBeLessThanOrEqual(budget.requestsPerWindow);
    expect(peak.tokens).toBeLessThanOrEqual(budget.tokensPerWindow);
    expect(limiters.some((l) => l.stats().waits > 0)).toBe(true);
  });

  it('a spent budget refills as its entries leave the window, and a waiter sleeps until then', async () => {
    const key = 'refill';
    const windowMs = 400;
    const limiter = createPostgresRateLimiter(a, { key, requestsPerWindow: 2, windowMs, marginMs: 0 });
    await limiter.acquire({ requests: 1 });
    await limiter.acquire({ requests: 1 });
    expect(limiter.stats().waits).toBe(0);
    await limiter.acquire({ requests: 1 }); // resolves once the first admission has aged out
    const rows = await admitted(key);
    expect(rows).toHaveLength(3);
    expect(rows[2]!.at - rows[0]!.at).toBeGreaterThanOrEqual(windowMs);
    // One sleep of the answered length, not a poll: at most one more for the jitter's rounding.
    expect(limiter.stats().waits).toBeGreaterThanOrEqual(1);
    expect(limiter.stats().waits).toBeLessThanOrEqual(2);
  });

  it('answers how long until enough of the oldest entries leave the window', async () => {
    const key = 'sluice:answers';
    const windowMs = 60_000;
    // Two entries of 1 request and 100 tokens, 50 s and 20 s old: one frees in ~10 s, both in ~40 s.
    await a.query(
      `INSERT INTO sluice.rate_admissions (key, id, at_ms, requests, tokens)
       SELECT $1, id, (extract(epoch FROM clock_timestamp()) * 1000)::bigint - age, 1, 100
       FROM (VALUES ('old', 50000), ('newer', 20000)) AS v(id, age)`,
      [key],
    );
    const ask = async (requests: number, tokens: number) => {
      const { rows } = await a.query<{ wait: string }>(
        `SELECT sluice.rate_acquire($1, 'probe', $2, 2, 250, $3, $4) AS wait`,
        [key, windowMs, requests, tokens],
      );
      return Number(rows[0]!.wait);
    };
    const one = await ask(1, 10);
    expect(one).toBeGreaterThan(5_000);
    expect(one).toBeLessThanOrEqual(10_000);
    const both = await ask(1, 200);
    expect(both).toBeGreaterThan(35_000);
    expect(both).toBeLessThanOrEqual(40_000);
    // Nothing recorded for a refused cost.
    const { rows } = await a.query('SELECT id FROM sluice.rate_admissions WHERE key = $1 ORDER BY id', [key]);
    expect(rows.map((r) => r.id)).toEqual(['newer', 'old']);
  });

  it('a penalty holds back every limiter of the budget and a shorter one never shortens it', async () => {
    const key = 'penalty';
    const one = createPostgresRateLimiter(a, { key, requestsPerWindow: 100 });
    const other = createPostgresRateLimiter(b, { key, requestsPerWindow: 100 });
    await one.penalise(30);
    await other.penalise(0.5);
    const { rows } = await b.query<{ wait: string }>(
      `SELECT sluice.rate_acquire('sluice:penalty', 'probe', 60000, 100, 0, 1, 0) AS wait`,
    );
    expect(Number(rows[0]!.wait)).toBeGreaterThan(25_000);
    const aborted = new AbortController();
    const waiting = other.acquire({ requests: 1 }, aborted.signal);
    aborted.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(other.stats().waits).toBe(1);
  });
});
