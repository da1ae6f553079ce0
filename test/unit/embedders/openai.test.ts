// The openai embedder against the local protocol server: widths, the
// `dimensions` parameter, discovery for unknown models, encodings, token limits
// and the errors a misconfigured or overloaded provider produces.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashVector } from '../../../src/embedders/hash.ts';
import { createOpenAIEmbedder } from '../../../src/embedders/openai.ts';
import { type EmbedServer, serverTokens, startEmbedServer } from '../../helpers/embed-server.ts';

const KEY = 'sk-test-right-key-0123456789';
let server: EmbedServer;
const make = (o: Parameters<typeof createOpenAIEmbedder>[0] = {}) =>
  createOpenAIEmbedder({ apiKey: KEY, baseUrl: server.openaiBaseUrl, ...o });

beforeAll(async () => {
  server = await startEmbedServer({ apiKey: KEY });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.setOptions({ rateLimitNext: 0, errorRate: 0, retryAfter: 'seconds', maxInputTokens: 8192 });
});

describe('openai embedder', () => {
  it('embeds known models at their width, in order, in float and base64', async () => {
    for (const encodingFormat of ['float', 'base64'] as const) {
      const e = await make({ encodingFormat });
      expect([e.dimensions, e.maxInputTokens, e.maxBatch]).toEqual([1536, 8191, 2048]);
      const [a, b] = await e.embed(['alpha beta', 'gamma']);
      expect(Array.from(a!)).toEqual(Array.from(hashVector('alpha beta', 1536)));
      expect(Array.from(b!)).toEqual(Array.from(hashVector('gamma', 1536)));
    }
    expect(server.requests.map((r) => r.model)).toEqual(['text-embedding-3-small', 'text-embedding-3-small']);
  });

  it('sends `dimensions` and rejects it for fixed-width models', async () => {
    const e = await make({ model: 'text-embedding-3-large', dimensions: 256 });
    const [v] = await e.embed(['x']);
    expect(v!.length).toBe(256);
    await expect(make({ model: 'text-embedding-ada-002', dimensions: 256 })).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
    });
  });

  it('discovers the width of an unknown model from the first response', async () => {
    const e = await make({ model: 'acme-embed-v1' });
    expect(e.dimensions).toBe(0);
    expect(await e.resolveDimensions!()).toBe(256);
    expect(e.dimensions).toBe(256);
    expect((await e.embed(['y']))[0]!.length).toBe(256);
  });

  it('counts tokens exactly as the provider does (cl100k_base)', async () => {
    const e = await make();
    const text = 'Tokenisation of ünïcödé, code `x => x * 2` and numbers 1234567.';
    expect(e.countTokens(text)).toBe(serverTokens(text));
  });

  it('fails an over-long input before sending it, or truncates it when configured', async () => {
    const long = 'word '.repeat(9000);
    const strict = await make();
    await expect(strict.embed([long])).rejects.toMatchObject({ code: 'INPUT_TOO_LONG' });
    expect(() => strict.fitInput!(long)).toThrow(/8191-token limit/);
    expect(server.requests).toHaveLength(0);
    const cut = await make({ truncate: true });
    expect(cut.fitInput!(long).tokens).toBe(8191);
    await cut.embed([long]);
    expect(server.requests[0]).toMatchObject({ status: 200, maxInputTokens: 8191 });
  });

  it('a bad key is one non-retryable CONFIG_ERROR that never shows the key', async () => {
    const e = await make({ apiKey: 'sk-wrong-key-SECRETVALUE-42' });
    const err = (await e.embed(['x']).catch((x: unknown) => x)) as Error;
    expect(err).toMatchObject({ code: 'CONFIG_ERROR', retryable: false });
    expect(err.message).toMatch(/API key was rejected/);
    expect(err.message).not.toContain('SECRETVALUE');
  });

  it('an unknown model is a CONFIG_ERROR naming it', async () => {
    const e = await make({ model: 'no-such-model' });
    await expect(e.embed(['x'])).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
      message: expect.stringMatching(/no-such-model.*not found/),
    });
  });

  it('parses Retry-After in seconds and as an HTTP date on 429', async () => {
    const e = await make();
    server.setOptions({ rateLimitNext: 1, stormRetryAfterSec: 7 });
    await expect(e.embed(['x'])).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      retryAfterSec: 7,
    });
    server.setOptions({ rateLimitNext: 1, stormRetryAfterSec: 30, retryAfter: 'date' });
    const err = (await e.embed(['x']).catch((x: unknown) => x)) as { retryAfterSec: number };
    expect(err.retryAfterSec).toBeGreaterThan(27);
    expect(err.retryAfterSec).toBeLessThanOrEqual(30);
  });

  it('5xx is a retryable PROVIDER_ERROR; empty input is refused locally', async () => {
    const e = await make();
    server.setOptions({ errorRate: 1 });
    await expect(e.embed(['x'])).rejects.toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    await expect(e.embed([''])).rejects.toMatchObject({ code: 'NO_TEXT' });
  });

  it('requires a key for api.openai.com without touching the network', async () => {
    await expect(createOpenAIEmbedder({})).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
      message: expect.stringMatching(/OPENAI_API_KEY/),
    });
  });
});
