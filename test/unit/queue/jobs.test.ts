// Job payloads are validated on receipt; ids are deterministic; backoff honours Retry-After.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../../../src/errors.ts';
import { jobId, nextStage, parsePayload, parseStages } from '../../../src/queue/jobs.ts';
import { backoffDelay } from '../../../src/queue/retry-policy.ts';

const good = { v: 1, documentId: 3, contentHash: 'a'.repeat(64), collection: 'default', uri: '/x.txt' };

describe('job payloads', () => {
  it('accepts a well-formed payload and rejects malformed ones with INVALID_JOB', () => {
    expect(parsePayload(good)).toEqual(good);
    for (const bad of [
      null,
      {},
      { ...good, v: 2 },
      { ...good, contentHash: 'zz' },
      { ...good, collection: "a'b" },
    ]) {
      expect(() => parsePayload(bad)).toThrow(expect.objectContaining({ code: 'INVALID_JOB' }));
    }
  });

  it('derives job ids from stage, document and content hash (no colons: BullMQ forbids them)', () => {
    expect(jobId('embed', good)).toBe(`embed-3-${'a'.repeat(64)}`);
    expect(jobId('embed', good)).not.toContain(':');
    expect(nextStage('extract')).toBe('chunk');
    expect(nextStage('load')).toBeUndefined();
  });

  it('parses --stages and names unknown ones', () => {
    expect(parseStages('extract, embed,extract')).toEqual(['extract', 'embed']);
    expect(() => parseStages('extract,frobnicate')).toThrow(/frobnicate/);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter and never undercuts Retry-After', () => {
    for (let i = 0; i < 50; i++) {
      const d1 = backoffDelay(1, 1000);
      const d3 = backoffDelay(3, 1000);
      expect(d1).toBeGreaterThanOrEqual(500);
      expect(d1).toBeLessThanOrEqual(1000);
      expect(d3).toBeGreaterThanOrEqual(2000);
      expect(d3).toBeLessThanOrEqual(4000);
    }
    const err = new SluiceError('RATE_LIMITED', 'slow down', { retryAfterSec: 30 });
    expect(backoffDelay(1, 1000, err)).toBe(30_000);
  });

  it('is whole milliseconds, which the PostgreSQL queue stores as a bigint timestamp', () => {
    // A fractional delay made BullMQ's PostgreSQL moveToDelayed fail, so a retried
    // job stalled instead of counting the attempt (its own attempts went unheeded).
    for (let i = 0; i < 50; i++) {
      expect(Number.isInteger(backoffDelay(1, 7))).toBe(true);
      expect(Number.isInteger(backoffDelay(1, 7, { retryAfterSec: 1.2345 }))).toBe(true);
    }
  });
});
