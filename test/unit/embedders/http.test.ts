// Status → SluiceError mapping, Retry-After parsing, redaction and timeouts of
// the shared HTTP helper every network embedder uses.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpError, parseRetryAfter, postJson, redactSecrets } from '../../../src/embedders/http.ts';

const ctx = { provider: 'openai', model: 'm1', secrets: ['sk-live-SECRET-abcdef123'] };

describe('parseRetryAfter', () => {
  it('reads delay-seconds, fractions and HTTP dates', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter('0.5')).toBe(0.5);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:09 GMT', now)).toBe(9);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });
  it('ignores absent or garbage values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('httpError', () => {
  const h = (v?: string) => new Headers(v ? { 'retry-after': v } : {});
  it('429 is a retryable RATE_LIMITED carrying Retry-After', () => {
    const e = httpError(429, '{"error":{"message":"slow down"}}', h('3'), ctx);
    expect([e.code, e.retryable, e.retryAfterSec]).toEqual(['RATE_LIMITED', true, 3]);
  });
  it('5xx is a retryable PROVIDER_ERROR', () => {
    const e = httpError(503, 'upstream gone', h('2'), ctx);
    expect([e.code, e.retryable, e.retryAfterSec]).toEqual(['PROVIDER_ERROR', true, 2]);
  });
  it('401 is a non-retryable CONFIG_ERROR naming the key problem without the key', () => {
    const body = JSON.stringify({
      error: { message: 'Incorrect API key provided: sk-live-SECRET-abcdef123.' },
    });
    const e = httpError(401, body, h(), ctx);
    expect([e.code, e.retryable]).toEqual(['CONFIG_ERROR', false]);
    expect(e.message).toMatch(/API key was rejected/);
    expect(e.message).not.toContain('SECRET');
  });
  it('404 names the model; 400 "context length" is INPUT_TOO_LONG', () => {
    expect(httpError(404, '{"error":"model not found"}', h(), ctx).message).toMatch(/model "m1".*not found/);
    const long = httpError(400, '{"error":{"message":"maximum context length is 8192 tokens"}}', h(), ctx);
    expect(long.code).toBe('INPUT_TOO_LONG');
    expect(httpError(400, '{"error":{"message":"bad param"}}', h(), ctx).code).toBe('CONFIG_ERROR');
  });
  it('redacts key-shaped strings even when not listed', () => {
    expect(redactSecrets('key sk-proj-abcdefghijkl used')).toBe('key sk-*** used');
  });
});

describe('postJson', () => {
  let url = '';
  const server = createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('{}'), 500);
    else res.end('not json');
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  it('times out as a retryable PROVIDER_ERROR', async () => {
    const err = await postJson(`${url}/slow`, {}, { ...ctx, timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(String((err as Error).message)).toMatch(/timed out/);
  });
  it('a refused connection is retryable; a non-JSON body too', async () => {
    await expect(postJson('http://127.0.0.1:9/x', {}, ctx)).rejects.toMatchObject({ retryable: true });
    await expect(postJson(`${url}/bad`, {}, ctx)).rejects.toMatchObject({ code: 'PROVIDER_ERROR' });
  });
  it('a caller abort is not turned into a provider error', async () => {
    const err = await postJson(`${url}/slow`, {}, { ...ctx, signal: AbortSignal.timeout(20) }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).name).toMatch(/Abort|Timeout/);
  });
});
