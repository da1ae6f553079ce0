// The extraction thread pool: results come back, a slow parse is cut off with
// TIMEOUT, a parse over the heap ceiling fails TOO_LARGE, and the pool survives both.
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../src/extractors/types.ts';
import { createThreadPool } from '../../../src/queue/thread-pool.ts';

const pool = createThreadPool({ threads: 2, timeoutMs: 3000, memoryMb: 64 });
afterAll(() => pool.close());

const md = (s: string) => new TextEncoder().encode(s);

describe('thread pool', () => {
  it('extracts and cleans in a thread', async () => {
    const doc = await pool.run({
      kind: 'extract',
      bytes: md('# Title\n\nHello   world\u00ad!\n'),
      mime: 'text/markdown',
      limits: DEFAULT_LIMITS,
    });
    expect(doc.title).toBe('Title');
    expect(doc.sections.map((s) => s.text).join('\n')).toContain('Hello world!');
  });

  it('cuts off a parse that outlasts the time limit (TIMEOUT) and keeps serving', async () => {
    // 100,000 nested elements take seconds to parse: over a 3 s limit on a slow machine
    // or not, the pool must answer either way without hanging.
    const fast = createThreadPool({ threads: 1, timeoutMs: 150, memoryMb: 256 });
    try {
      const deep = md(`<html><body>${'<div>'.repeat(100_000)}deep${'</div>'.repeat(100_000)}</body></html>`);
      await expect(
        fast.run({ kind: 'extract', bytes: deep, mime: 'text/html', limits: DEFAULT_LIMITS }),
      ).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      const ok = await fast.run({
        kind: 'extract',
        bytes: md('still alive'),
        mime: 'text/plain',
        limits: DEFAULT_LIMITS,
      });
      expect(ok.sections[0]?.text).toBe('still alive');
    } finally {
      await fast.close();
    }
  });

  it('fails a parse over the heap ceiling with TOO_LARGE and keeps serving', async () => {
    // A million headings: the section objects alone exceed a 48 MB heap.
    const small = createThreadPool({ threads: 1, timeoutMs: 30_000, memoryMb: 48 });
    const big = md('# heading\n\nparagraph text\n\n'.repeat(1_000_000));
    await expect(
      small.run({
        kind: 'extract',
        bytes: big,
        mime: 'text/markdown',
        limits: { ...DEFAULT_LIMITS, maxTextChars: 1e9 },
      }),
    ).rejects.toMatchObject({ code: 'TOO_LARGE' });
    const ok = await small.run({
      kind: 'extract',
      bytes: md('after the crash'),
      mime: 'text/plain',
      limits: DEFAULT_LIMITS,
    });
    expect(ok.sections[0]?.text).toBe('after the crash');
    await small.close();
  });

  it('chunks in a thread', async () => {
    const chunks = await pool.run({
      kind: 'chunk',
      doc: { metadata: {}, sections: [{ text: 'alpha '.repeat(400), headingPath: ['A'] }] },
      options: { size: 500, overlap: 50 },
    });
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]?.metadata.headingPath).toEqual(['A']);
  });
});
