// Token-aware chunking: chunks are cut by characters, tokenised once each, and
// only the over-limit ones are cut again, so no chunk exceeds the embedder's
// input limit and the tokenizer is never run on every candidate piece.
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCl100k, type Tokenizer } from '../../../src/embedders/models.ts';
import type { ExtractedDocument } from '../../../src/extractors/types.ts';
import { createThreadPool } from '../../../src/queue/thread-pool.ts';
import { chunkDocument, chunkFingerprint, SECTION_SEPARATOR } from '../../../src/transforms/chunk.ts';

let cl100k: Tokenizer;
const joined = (doc: ExtractedDocument) => doc.sections.map((s) => s.text).join(SECTION_SEPARATOR);
const WORDS = 'river stone light paper quiet signal garden orbit metal cloud amber thread'.split(' ');

/** English-like prose: `n` sentences of 8–20 words. */
function prose(n: number, seed = 7): string {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x;
  };
  return Array.from({ length: n }, (_, i) => {
    const len = 8 + (next() % 13);
    const words = Array.from({ length: len }, () => WORDS[next() % WORDS.length]);
    return `Sentence ${i} ${words.join(' ')}.`;
  }).join(' ');
}

/** Text that costs far more tokens per character than prose: hex digits, CJK, emoji. */
function dense(chars: number): string {
  const parts = ['9f3a7c01e2', '漢字仮名交じり文', '🙂🚀🧪', 'ʃʒθð'];
  let out = '';
  for (let i = 0; out.length < chars; i++) out += `${parts[i % parts.length]}${i % 7 === 0 ? ' ' : ''}`;
  return out.slice(0, chars);
}

function expectExactOffsets(doc: ExtractedDocument, chunks: Awaited<ReturnType<typeof chunkDocument>>) {
  const text = joined(doc);
  chunks.forEach((c, i) => {
    expect(c.ordinal).toBe(i);
    expect(text.slice(c.metadata.charStart, c.metadata.charEnd)).toBe(c.text);
  });
}

beforeAll(async () => {
  cl100k = await loadCl100k();
});

describe('token-aware chunking', () => {
  it('keeps characters as the size unit but never exceeds maxTokens; tokenCount is the real count', async () => {
    const doc: ExtractedDocument = {
      metadata: {},
      sections: [{ text: prose(200) }, { text: dense(6000), headingPath: ['Dense'] }],
    };
    const chunks = await chunkDocument(doc, {
      size: 1000,
      overlap: 100,
      countTokens: cl100k.count,
      tokenizer: 'cl100k_base',
      maxTokens: 120,
    });
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) {
      // What is sent: the text, with its heading context where it has one.
      expect(c.tokenCount).toBe(cl100k.count(c.embedText ?? c.text));
      expect(c.tokenCount).toBeLessThanOrEqual(120);
      expect(c.text.length).toBeLessThanOrEqual(1000);
    }
    expectExactOffsets(doc, chunks);
    // Prose chunks stay near the character size; only the dense ones were cut smaller.
    const proseChunks = chunks.filter((c) => c.metadata.headingPath.length === 0);
    expect(Math.max(...proseChunks.map((c) => c.text.length))).toBeGreaterThan(400);
    const covered = chunks.reduce((n, c) => n + c.text.length, 0);
    expect(covered).toBeGreaterThanOrEqual(joined(doc).replace(/\s+/g, '').length * 0.9);
  });

  it('cuts one giant word (no separators at all) to the limit instead of failing the document', async () => {
    const word = 'x7'.repeat(20_000);
    const doc: ExtractedDocument = { metadata: {}, sections: [{ text: word }] };
    const chunks = await chunkDocument(doc, {
      size: 30_000,
      overlap: 0,
      countTokens: cl100k.count,
      tokenizer: 'cl100k_base',
      maxTokens: 8191,
    });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.tokenCount).toBeLessThanOrEqual(8191);
    expect(chunks.map((c) => c.text).join('')).toBe(word);
    expectExactOffsets(doc, chunks);
  });

  it('tokenises each produced chunk about once, not every candidate piece', async () => {
    const doc: ExtractedDocument = {
      metadata: {},
      sections: Array.from({ length: 40 }, (_, i) => ({ text: prose(60, i + 1), headingPath: [`H${i}`] })),
    };
    let calls = 0;
    let charsCounted = 0;
    const counting = (s: string) => {
      calls++;
      charsCounted += s.length;
      return cl100k.count(s);
    };
    const chunks = await chunkDocument(doc, {
      size: 1000,
      overlap: 150,
      countTokens: counting,
      tokenizer: 'cl100k_base',
      maxTokens: 8191,
    });
    // Once per chunk, plus once per section for its heading context.
    expect(calls).toBe(chunks.length + 40);
    // Overlap makes ~15% of the text counted twice; nothing more.
    expect(charsCounted).toBeLessThan(joined(doc).length * 1.3);
  });

  it('is many times faster than a splitter that measures every piece with the tokenizer', async () => {
    const text = prose(3000); // ~200 KB
    const doc: ExtractedDocument = { metadata: {}, sections: [{ text }] };
    const opts = { size: 1000, overlap: 100, countTokens: cl100k.count, tokenizer: 'cl100k_base' };
    await chunkDocument(doc, { ...opts, maxTokens: 8191 }); // warm up
    const t0 = performance.now();
    const ours = await chunkDocument(doc, { ...opts, maxTokens: 8191 });
    const oursMs = performance.now() - t0;
    const naive = new RecursiveCharacterTextSplitter({
      chunkSize: 250,
      chunkOverlap: 25,
      lengthFunction: cl100k.count,
    });
    const t1 = performance.now();
    await naive.splitText(text.slice(0, 50_000));
    const naiveMsPerByte = (performance.now() - t1) / 50_000;
    const oursMsPerByte = oursMs / text.length;
    expect(ours.length).toBeGreaterThan(100);
    expect(naiveMsPerByte / oursMsPerByte).toBeGreaterThan(5);
  }, 30_000);

  it('has tokenizer and limit in the fingerprint, and leaves character-only settings unchanged', () => {
    const chars = chunkFingerprint({ size: 1000, overlap: 150 });
    expect(chars).toBe(
      `recursive-v2;size=1000;overlap=150;min=200;unit=chars;sep=${JSON.stringify(SECTION_SEPARATOR)};context=title+headings`,
    );
    const tok = chunkFingerprint({ size: 1000, overlap: 150, tokenizer: 'cl100k_base', maxTokens: 8191 });
    expect(tok).not.toBe(chars);
    expect(tok).toContain('cl100k_base');
    expect(chunkFingerprint({ size: 1000, overlap: 150, tokenizer: 'cl100k_base', maxTokens: 512 })).not.toBe(
      tok,
    );
  });

  it('rejects a token limit that is not a positive integer', async () => {
    const doc: ExtractedDocument = { metadata: {}, sections: [{ text: 'x' }] };
    await expect(chunkDocument(doc, { size: 10, overlap: 0, maxTokens: 0 })).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
    });
  });

  describe('in the chunking thread', () => {
    const pool = createThreadPool({ threads: 1, timeoutMs: 30_000, memoryMb: 256 });
    afterAll(() => pool.close());

    it('builds the tokenizer from its name: real token counts, limit respected', async () => {
      const doc: ExtractedDocument = { metadata: {}, sections: [{ text: `${prose(40)} ${dense(3000)}` }] };
      const chunks = await pool.run({
        kind: 'chunk',
        doc,
        options: { size: 1000, overlap: 50, tokenizer: 'cl100k_base', maxTokens: 100 },
        tokenizer: 'cl100k_base',
      });
      expect(chunks.length).toBeGreaterThan(3);
      for (const c of chunks) {
        expect(c.tokenCount).toBe(cl100k.count(c.text));
        expect(c.tokenCount).toBeLessThanOrEqual(100);
      }
    });
  });
});
