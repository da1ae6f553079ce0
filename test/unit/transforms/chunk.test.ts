import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ExtractedDocument } from '../../../src/extractors/types.ts';
import { chunkDocument, chunkFingerprint, SECTION_SEPARATOR } from '../../../src/transforms/chunk.ts';

const joined = (doc: ExtractedDocument) => doc.sections.map((s) => s.text).join(SECTION_SEPARATOR);
const para = (word: string, n: number) => Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');

describe('chunkDocument', () => {
  it('gives contiguous ordinals, hashes, token estimates and exact offsets', async () => {
    const doc: ExtractedDocument = {
      metadata: {},
      sections: [{ text: `${para('alpha', 120)}\n\n${para('beta', 120)}` }, { text: para('gamma', 80) }],
    };
    const chunks = await chunkDocument(doc, { size: 300, overlap: 50 });
    const text = joined(doc);
    expect(chunks.length).toBeGreaterThan(5);
    chunks.forEach((c, i) => {
      expect(c.ordinal).toBe(i);
      expect(c.text.length).toBeLessThanOrEqual(300);
      expect(text.slice(c.metadata.charStart, c.metadata.charEnd)).toBe(c.text);
      expect(c.contentHash).toBe(createHash('sha256').update(c.text).digest('hex'));
      expect(c.tokenCount).toBe(Math.ceil(c.text.length / 4));
      expect(c.metadata.pageStart).toBeUndefined();
    });
  });

  it.each([0, 40])('locates repeated text correctly (overlap %i)', async (overlap) => {
    const rep = 'The same sentence repeats here.';
    const doc: ExtractedDocument = { metadata: {}, sections: [{ text: Array(40).fill(rep).join('\n') }] };
    const chunks = await chunkDocument(doc, { size: 100, overlap });
    const text = joined(doc);
    let prevEnd = 0;
    for (const c of chunks) {
      expect(text.slice(c.metadata.charStart, c.metadata.charEnd)).toBe(c.text);
      expect(c.metadata.charStart).toBeGreaterThanOrEqual(prevEnd - overlap);
      expect(c.metadata.charEnd).toBeGreaterThan(prevEnd);
      prevEnd = c.metadata.charEnd;
    }
    expect(prevEnd).toBe(text.length);
  });

  it('never mixes heading paths and merges sections under one heading (no small-section merging)', async () => {
    const doc: ExtractedDocument = {
      metadata: {},
      sections: [
        { text: 'Intro A', headingPath: ['A'] },
        { text: 'More A', headingPath: ['A'] },
        { text: 'Text B', headingPath: ['A', 'B'] },
        { text: 'Again A', headingPath: ['A'] },
      ],
    };
    const chunks = await chunkDocument(doc, { size: 1000, overlap: 0, minSize: 0 });
    expect(chunks.map((c) => [c.text, c.metadata.headingPath])).toEqual([
      ['Intro A\n\nMore A', ['A']],
      ['Text B', ['A', 'B']],
      ['Again A', ['A']],
    ]);
  });

  it('records page ranges for paged documents', async () => {
    const doc: ExtractedDocument = {
      metadata: {},
      sections: [1, 2, 3, 4].map((page) => ({ text: para(`p${page}w`, 30), page })),
    };
    const chunks = await chunkDocument(doc, { size: 400, overlap: 0 });
    expect(chunks[0]?.metadata.pageStart).toBe(1);
    expect(chunks.at(-1)?.metadata.pageEnd).toBe(4);
    expect(chunks.some((c) => c.metadata.pageStart !== c.metadata.pageEnd)).toBe(true);
    for (const c of chunks) {
      const pages = [...c.text.matchAll(/p(\d)w/g)].map((m) => Number(m[1]));
      expect(Math.min(...pages)).toBe(c.metadata.pageStart);
      expect(Math.max(...pages)).toBe(c.metadata.pageEnd);
    }
  });

  it('uses custom length and token functions', async () => {
    const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
    const doc: ExtractedDocument = { metadata: {}, sections: [{ text: para('w', 100) }] };
    const chunks = await chunkDocument(doc, {
      size: 20,
      overlap: 5,
      lengthFunction: words,
      countTokens: words,
    });
    for (const c of chunks) expect(c.tokenCount).toBeLessThanOrEqual(20);
    expect(chunks.length).toBeGreaterThanOrEqual(6);
  });

  it('rejects overlap ≥ size with CONFIG_ERROR', async () => {
    const doc: ExtractedDocument = { metadata: {}, sections: [{ text: 'x' }] };
    await expect(chunkDocument(doc, { size: 10, overlap: 10 })).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
    });
  });

  // Throughput is measured by `npm run bench`, never here: this only proves a large document chunks whole.
  it('chunks a 10 MB document', async () => {
    const sections = Array.from({ length: 2000 }, (_, i) => ({
      text: `${para(`s${i}x`, 700)}`,
      headingPath: [`H${Math.floor(i / 10)}`],
    }));
    const doc: ExtractedDocument = { metadata: {}, sections };
    const chunks = await chunkDocument(doc, { size: 1000, overlap: 100 });
    expect(joined(doc).length / 1e6).toBeGreaterThan(8);
    expect(chunks.length).toBeGreaterThan(8000);
  }, 30_000);
});

describe('chunkFingerprint', () => {
  it('is stable and changes with the settings', () => {
    const a = chunkFingerprint({ size: 1000, overlap: 100 });
    expect(a).toBe(chunkFingerprint({ size: 1000, overlap: 100 }));
    expect(a).not.toBe(chunkFingerprint({ size: 1000, overlap: 200 }));
    expect(a).not.toBe(chunkFingerprint({ size: 1000, overlap: 100, lengthUnit: 'tiktoken:cl100k_base' }));
  });
});
