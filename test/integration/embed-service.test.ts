// needs a Postgres server: several processes share one database
// needs a Redis server: uses the shared limiter in Redis directly
// The shared rate limiter, on the real Redis and on the real Postgres (the store
// used when the queue runs there), with the same assertions: waiting without
// spinning, penalties seen by every instance, and two separate worker processes
// that together never exceed one budget at the provider.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createOpenAIEmbedder } from '../../src/embedders/openai.ts';
import { createEmbedService } from '../../src/queue/embed-service.ts';
import { createRateLimiter, type RateLimiter } from '../../src/queue/rate-limit.ts';
import {
  createPostgresRateLimiter,
  type PostgresRateLimiterOptions,
} from '../../src/queue/rate-limit-postgres.ts';
import { retryPolicy } from '../../src/queue/retry-policy.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { type EmbedServer, type RecordedRequest, startEmbedServer } from '../helpers/embed-server.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-embed-${process.pid}-${Date.now().toString(36)}`;
let redis: Redis;
let server: EmbedServer;
let db: TestDatabase;
let pool: Pool;
const apartPools: Pool[] = [];

const src = (p: string) => JSON.stringify(fileURLToPath(new URL(`../../src/${p}`, import.meta.url)));

/** One store of the shared budget, as a test sees it. */
interface LimiterBackend {
  name: string;
  /** A limiter; `apart`: on its own connection, as another process would be. */
  make(opts: PostgresRateLimiterOptions, apart?: boolean): RateLimiter;
  /** Module code for a child process that defines `limiter` from `opts` and `closeLimiter()`. */
  child(opts: PostgresRateLimiterOptions): string;
}

const BACKENDS: LimiterBackend[] = [
  {
    name: 'Redis',
    make: (opts, apart) => createRateLimiter({ ...opts, redis: apart ? REDIS_URL : redis }),
    child: (opts) => `
      const { createRateLimiter } = await import(${src('queue/rate-limit.ts')});
      const limiter = createRateLimiter({ redis: ${JSON.stringify(REDIS_URL)}, ...${JSON.stringify(opts)} });
      const closeLimiter = () => limiter.close();`,
  },
  {
    name: 'Postgres',
    make(opts, apart) {
      if (!apart) return createPostgresRateLimiter(pool, opts);
      const own = createPool(db.url, { max: 4 });
      apartPools.push(own);
      return createPostgresRateLimiter(own, opts);
    },
    child: (opts) => `
      const { createPool } = await import(${src('db/pool.ts')});
      const { createPostgresRateLimiter } = await import(${src('queue/rate-limit-postgres.ts')});
      const pool = createPool(${JSON.stringify(db.url)}, { max: 4 });
      const limiter = createPostgresRateLimiter(pool, ${JSON.stringify(opts)});
      const closeLimiter = async () => { await limiter.close(); await pool.end(); };`,
  },
];

/** Largest token and request totals the provider saw in any window. */
function peaks(reqs: RecordedRequest[], windowMs: number) {
  const ok = reqs.filter((r) => r.status === 200);
  let tokens = 0;
  let requests = 0;
  for (const r of ok) {
    const inWindow = ok.filter((q) => q.at <= r.at && q.at > r.at - windowMs);
    tokens = Math.max(
      tokens,
      inWindow.reduce((n, q) => n + q.tokens, 0),
    );
    requests = Math.max(requests, inWindow.length);
  }
  return { tokens, requests };
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 4 });
});
afterAll(async () => {
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await Promise.all([pool, ...apartPools].map((p) => p?.end()));
  await db?.drop();
});

describe.each(BACKENDS)('shared rate limiter on $name', (backend) => {
  // A provider of its own per store: its budget and fault settings start afresh.
  beforeAll(async () => {
    server = await startEmbedServer({ maxInputs: 64, maxRequestTokens: 2000 });
  });
  afterAll(() => server.close());

  it('waits for the window instead of spinning, and refuses costs that can never fit', async () => {
    const rl = backend.make({ prefix: PREFIX, key: 'wait', tokensPerWindow: 100, windowMs: 400 });
    const t0 = Date.now();
    await rl.acquire({ tokens: 60 });
    await rl.acquire({ tokens: 60 });
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(380);
    expect(waited).toBeLessThan(900);
    expect(rl.stats().waits).toBeLessThanOrEqual(2);
    await expect(rl.acquire({ tokens: 101 })).rejects.toMatchObject({ code: 'CONFIG_ERROR' });
  });

  it('a penalty after a 429 holds back every instance sharing the budget', async () => {
    const a = backend.make({ prefix: PREFIX, key: 'pen', requestsPerWindow: 1000 });
    const b = backend.make({ prefix: PREFIX, key: 'pen', requestsPerWindow: 1000 }, true);
    await a.penalise(0.3);
    const t0 = Date.now();
    await b.acquire({ requests: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await b.close();
  });

  it('two worker processes sharing one budget never exceed it together', async () => {
    const windowMs = 1000;
    const budget = { tokensPerWindow: 3000, requestsPerWindow: 12 };
    server.setOptions({ windowMs, ...budget });
    server.requests.length = 0;
    const child = `
      const { createOpenAIEmbedder } = await import(${src('embedders/openai.ts')});
      const { createEmbedService } = await import(${src('queue/embed-service.ts')});
      const { retryPolicy } = await import(${src('queue/retry-policy.ts')});
      const embedder = await createOpenAIEmbedder({ baseUrl: ${JSON.stringify(server.openaiBaseUrl)}, maxBatch: 64, maxBatchTokens: 2000 });
      ${backend.child({ prefix: PREFIX, key: 'openai:text-embedding-3-small', windowMs, ...budget })}
      const svc = createEmbedService({ embedder, limiter, retry: retryPolicy({ attempts: 1, backoffMs: 10 }) });
      const texts = Array.from({ length: 60 }, (_, i) => 'process ' + process.pid + ' text ' + i + ' ' + 'lorem ipsum dolor sit amet '.repeat(12));
      const out = await Promise.all([0, 1, 2].map((k) => svc.embedMany(texts.slice(k * 20, k * 20 + 20))));
      console.log(JSON.stringify({ vectors: out.flat().length, ...svc.stats() }));
      await closeLimiter();
    `;
    const run = () =>
      new Promise<{ vectors: number; rateLimited: number }>((resolve, reject) => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', child], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        p.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`child exited ${code}`)),
        );
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect([a.vectors, b.vectors]).toEqual([60, 60]);
    const reqs = server.requests;
    const total = reqs.filter((r) => r.status === 200).reduce((n, r) => n + r.tokens, 0);
    expect(total).toBeGreaterThan(2 * budget.tokensPerWindow); // the budget really was the bottleneck
    expect(reqs.filter((r) => r.status === 429)).toEqual([]);
    const peak = peaks(reqs, windowMs);
    expect(peak.tokens).toBeLessThanOrEqual(budget.tokensPerWindow);
    expect(peak.requests).toBeLessThanOrEqual(budget.requestsPerWindow);
  });

  it('with a shared limiter, a 429 storm and 500s still complete', async () => {
    server.setOptions({
      windowMs: 1000,
      tokensPerWindow: 20_000,
      requestsPerWindow: 100,
      rateLimitNext: 5,
      stormRetryAfterSec: 0.2,
      errorRate: 0.1,
    });
    const embedder = await createOpenAIEmbedder({
      baseUrl: server.openaiBaseUrl,
      maxBatch: 64,
      maxBatchTokens: 2000,
    });
    const limiter = backend.make({
      prefix: PREFIX,
      key: 'storm',
      tokensPerWindow: 20_000,
      requestsPerWindow: 100,
      windowMs: 1000,
    });
    const svc = createEmbedService({
      embedder,
      limiter,
      retry: retryPolicy({ attempts: 7, backoffMs: 10 }),
      backoffMs: 10,
    });
    const texts = Array.from({ length: 200 }, (_, i) => `storm text ${i} with a few more words`);
    expect(await svc.embedMany(texts)).toHaveLength(200);
    expect(svc.stats()).toMatchObject({ rateLimited: 5, failedRequests: 0 });
  });
});
