// The batching service against the protocol server, without Redis: packing to
// the provider's limits, coalescing concurrent callers, 429 storms and 500s,
// configuration errors, per-caller input errors, aborts and shutdown.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashVector } from '../../../src/embedders/hash.ts';
import { createOpenAIEmbedder } from '../../../src/embedders/openai.ts';
import { createEmbedService, type EmbedServiceOptions } from '../../../src/queue/embed-service.ts';
import { retryPolicy } from '../../../src/queue/retry-policy.ts';
import { type EmbedServer, startEmbedServer } from '../../helpers/embed-server.ts';
import { until } from '../../helpers/until.ts';

const KEY = 'sk-service-test-key-987654';
const WORDS = 'river stone light paper quiet signal garden orbit metal cloud amber thread'.split(' ');
let server: EmbedServer;

/** Deterministic texts of 1–`maxWords` words (about one token per word). */
function texts(n: number, maxWords: number, seed = 1): string[] {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x;
  };
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + (next() % maxWords);
    return `doc${i} ` + Array.from({ length: len }, () => WORDS[next() % WORDS.length]).join(' ');
  });
}

async function service(
  o: Partial<EmbedServiceOptions> & { apiKey?: string; maxBatch?: number; maxBatchTokens?: number } = {},
) {
  const embedder = await createOpenAIEmbedder({
    apiKey: o.apiKey ?? KEY,
    baseUrl: server.openaiBaseUrl,
    dimensions: 64,
    maxBatch: o.maxBatch ?? 64,
    maxBatchTokens: o.maxBatchTokens ?? 4000,
  });
  return createEmbedService({
    backoffMs: 5,
    lingerMs: 20,
    retry: retryPolicy({ attempts: 6, backoffMs: 5 }),
    ...o,
    embedder,
  });
}

const expectVectors = (input: string[], out: Float32Array[]) => {
  expect(out).toHaveLength(input.length);
  input.forEach((t, i) => {
    expect(Array.from(out[i]!)).toEqual(Array.from(hashVector(t, 64)));
  });
};

beforeAll(async () => {
  server = await startEmbedServer({
    apiKey: KEY,
    maxInputs: 64,
    maxRequestTokens: 4000,
    maxInputTokens: 8192,
  });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.setOptions({ apiKey: KEY, rateLimitNext: 0, errorRate: 0, stormRetryAfterSec: 0.1, seed: 1 });
});

describe('embed service', () => {
  it('packs many callers’ texts into near-minimal requests that never exceed a limit', async () => {
    const svc = await service();
    const batches = Array.from({ length: 40 }, (_, c) => texts(25, 300, c + 1));
    const out = await Promise.all(batches.map((b) => svc.embedMany(b)));
    batches.forEach((b, i) => {
      expectVectors(b, out[i]!);
    });
    const reqs = server.requests;
    expect(reqs.every((r) => r.status === 200 && r.inputs <= 64 && r.tokens <= 4000)).toBe(true);
    const inputs = reqs.reduce((n, r) => n + r.inputs, 0);
    const tokens = reqs.reduce((n, r) => n + r.tokens, 0);
    expect(inputs).toBe(1000);
    const minimum = Math.max(Math.ceil(tokens / 4000), Math.ceil(inputs / 64));
    expect(reqs.length).toBeLessThanOrEqual(Math.ceil(minimum * 1.1));
    expect(svc.stats()).toMatchObject({ requests: reqs.length, inputs: 1000, tokens, retries: 0 });
  });

  it('coalesces small concurrent calls into one request', async () => {
    const svc = await service();
    const calls = Array.from({ length: 10 }, (_, i) => [`a${i}`, `b${i}`, `c${i}`]);
    const out = await Promise.all(calls.map((c) => svc.embedMany(c)));
    calls.forEach((c, i) => {
      expectVectors(c, out[i]!);
    });
    expect(server.requests).toHaveLength(1);
  });

  it('texts that arrive while a request is out gather into the next request, not one request each', async () => {
    server.setOptions({ latencyMs: 1500 });
    try {
      const svc = await service({ lingerMs: 1, maxLingerMs: 60_000 });
      const first = svc.embedMany(['first']);
      await until('the first request to reach the server', () => server.requests.length === 1, {
        intervalMs: 5,
      });
      // Ten callers, each after the 1 ms linger of the one before, while the first request is out.
      const later: Promise<Float32Array[]>[] = [];
      for (let i = 0; i < 10; i++) {
        later.push(svc.embedMany([`later ${i}`]));
        await sleep(5);
      }
      await first;
      await Promise.all(later);
      expect(server.requests.map((r) => r.inputs)).toEqual([1, 10]);
      await svc.close();
    } finally {
      server.setOptions({ latencyMs: 0 });
    }
  });

  it('rides out a 429 storm without spending attempts', async () => {
    const svc = await service({ retry: retryPolicy({ attempts: 1, backoffMs: 5 }) });
    server.setOptions({ rateLimitNext: 12 });
    const input = texts(300, 40);
    expectVectors(input, await svc.embedMany(input));
    expect(svc.stats()).toMatchObject({ rateLimited: 12, retries: 0, failedRequests: 0 });
  });

  it('a 429 storm plus 10% random 500s still completes every call, with bounded retries', async () => {
    const svc = await service({ retry: retryPolicy({ attempts: 7, backoffMs: 5 }) });
    server.setOptions({ rateLimitNext: 15, errorRate: 0.1 });
    const calls = Array.from({ length: 30 }, (_, c) => texts(20, 200, c + 100));
    const out = await Promise.all(calls.map((b) => svc.embedMany(b)));
    calls.forEach((b, i) => {
      expectVectors(b, out[i]!);
    });
    const injected = server.requests.filter((r) => r.reason === 'injected-500').length;
    expect(injected).toBeGreaterThan(0);
    expect(svc.stats()).toMatchObject({ rateLimited: 15, retries: injected, failedRequests: 0 });
  });

  it("gives up after the policy's tries on persistent 5xx, with an error final for the job", async () => {
    const svc = await service({ retry: retryPolicy({ attempts: 4, backoffMs: 5 }) });
    server.setOptions({ errorRate: 1 });
    await expect(svc.embedMany(['x'])).rejects.toMatchObject({ code: 'PROVIDER_ERROR', retryable: false });
    expect(server.requests).toHaveLength(4);
  });

  it('an invalid key rejects every waiting caller with one CONFIG_ERROR after one request, then recovers', async () => {
    const svc = await service({ apiKey: 'sk-wrong-HIDDEN-key-1', maxInFlight: 1, maxBatch: 4 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => svc.embedMany([`t${i}`])));
    expect(server.requests).toHaveLength(1);
    const reasons = results.map((r) =>
      r.status === 'rejected' ? (r.reason as Error & { code: string }) : undefined,
    );
    expect(reasons.every((e) => e?.code === 'CONFIG_ERROR')).toBe(true);
    expect(new Set(reasons).size).toBe(1);
    expect(reasons[0]!.message).not.toContain('HIDDEN');
    expect(svc.stats().configErrors).toBe(1);
    server.setOptions({ apiKey: 'sk-wrong-HIDDEN-key-1' }); // the operator fixes the key
    expectVectors(['again'], await svc.embedMany(['again']));
  });

  it('an over-long input fails only its own caller', async () => {
    const svc = await service({ maxBatchTokens: 20_000 });
    const [bad, good] = await Promise.allSettled([
      svc.embedMany(['ok', 'word '.repeat(9000)]),
      svc.embedMany(['fine']),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'INPUT_TOO_LONG' } });
    expect(good.status).toBe('fulfilled');
  });

  it('an aborted caller is dropped before it costs a request', async () => {
    const svc = await service({ lingerMs: 50 });
    const ctrl = new AbortController();
    const p = svc.embedMany(['never sent'], ctrl.signal);
    ctrl.abort(new Error('job cancelled'));
    await expect(p).rejects.toThrow('job cancelled');
    await new Promise((r) => setTimeout(r, 80));
    expect(server.requests).toHaveLength(0);
  });

  it('close() sends what is queued at once and refuses new work', async () => {
    const svc = await service({ lingerMs: 10_000 });
    const p = svc.embedMany(['last words']);
    await svc.close();
    expectVectors(['last words'], await p);
    await expect(svc.embedMany(['late'])).rejects.toThrow(/closed/);
  });
});
