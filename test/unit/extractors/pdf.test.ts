// PDF extractor: real corpus files (test/fixtures/pdf) and generated ones (pdf-lib).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pdfDate, pdfExtractor } from '../../../src/extractors/pdf.ts';
import { normalisePdfText, readingOrder } from '../../../src/extractors/pdf-layout.ts';
import { DEFAULT_LIMITS, type ExtractedDocument } from '../../../src/extractors/types.ts';
import {
  LEFT,
  makeBlankPdf,
  makePdfWithBrokenPage,
  makeReportPdf,
  makeTwoColumnPdf,
  PHRASE,
  RIGHT,
} from '../../helpers/make-pdf.ts';
import { runExtractorContract } from './contract.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/pdf/${name}`, import.meta.url)));
const extract = (bytes: Uint8Array, limits = DEFAULT_LIMITS): Promise<ExtractedDocument> =>
  pdfExtractor.extract({ bytes, mime: 'application/pdf', limits });
const allText = (d: ExtractedDocument): string => d.sections.map((s) => s.text).join('\n\n');
const codeOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );
const words = (s: string): string[] =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .match(/[\p{L}\p{N}]+/gu) ?? [];

runExtractorContract(pdfExtractor, { sample: fixture('docling-multi_page.pdf'), mime: 'application/pdf' });

describe('pdf extractor: generated report', async () => {
  const doc = await extract(await makeReportPdf());

  it('gives one section per page with the page number', () => {
    expect(doc.sections.map((s) => s.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
  it('finds the phrase on page 7 only', () => {
    const pages = doc.sections.filter((s) => s.text.includes(PHRASE)).map((s) => s.page);
    expect(pages).toEqual([7]);
  });
  it('removes the running header and the page-number footer', () => {
    expect(allText(doc)).not.toContain('ACME Quarterly Report');
    expect(allText(doc)).not.toMatch(/Page \d+ of 10/);
    expect(doc.sections[0]?.text.startsWith('Section 1 line 1')).toBe(true);
  });
  it('re-joins a word hyphenated across lines', () => {
    expect(doc.sections[2]?.text).toContain('reviewed the infrastructure budget');
  });
  it('reads title, author, creation date and page count', () => {
    expect(doc.title).toBe('ACME Quarterly Report');
    expect(doc.metadata).toMatchObject({
      author: 'Test Author',
      creationDate: '2024-05-06T07:08:09.000Z',
      pageCount: 10,
      failedPages: [],
    });
  });
  it('refuses more pages than limits.maxPages with TOO_LARGE before parsing pages', async () => {
    const bytes = await makeReportPdf(12, 3);
    expect(await codeOf(extract(bytes, { ...DEFAULT_LIMITS, maxPages: 11 }))).toBe('TOO_LARGE');
  });
  it('honours an aborted signal', async () => {
    const bytes = await makeReportPdf(3, 2);
    const signal = AbortSignal.abort();
    await expect(
      pdfExtractor.extract({ bytes, mime: 'application/pdf', limits: DEFAULT_LIMITS, signal }),
    ).rejects.toThrow();
  });
});

describe('pdf extractor: reading order', () => {
  it('reads a generated two-column page column by column, not line by line', async () => {
    const text = allText(await extract(await makeTwoColumnPdf()));
    expect(text.indexOf('A Study of Columns')).toBe(0);
    const order = [...LEFT, ...RIGHT].map((l) => text.indexOf(l));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
  it('keeps the columns of the real two-column paper apart', async () => {
    const text = allText(await extract(fixture('uns-multi-column-2p.pdf'))).replace(/\s+/g, ' ');
    // Left column: the introduction's first paragraph runs on without right-column text inside.
    expect(text).toContain(
      'Open-domain question answering (QA) (Voorhees, 1999) is a task that answers factoid questions',
    );
    expect(text).toContain('a much simplified two-stage framework');
    const intro = text.indexOf('1 Introduction');
    expect(intro).toBeLessThan(text.indexOf('Open-domain question answering (QA)'));
    expect(text.indexOf('Open-domain question answering (QA)')).toBeLessThan(
      text.indexOf('Retrieval in open-domain QA is usually'),
    );
  });
  it('orders lines top to bottom and fragments left to right', () => {
    const lines = readingOrder([
      { str: 'second', x: 10, y: 40, width: 30, size: 10 },
      { str: 'first', x: 10, y: 20, width: 25, size: 10 },
      { str: 'line', x: 38, y: 20, width: 20, size: 10 },
    ]);
    expect(lines.map((l) => l.text)).toEqual(['first line', 'second']);
  });
});

describe('pdf extractor: corpus documents', () => {
  it('extracts docling multi_page close to its expected text, pages 1..5', async () => {
    const doc = await extract(fixture('docling-multi_page.pdf'));
    expect(doc.metadata['pageCount']).toBe(5);
    expect(doc.sections.map((s) => s.page)).toEqual([1, 2, 3, 4, 5]);
    const got = new Set(words(allText(doc)));
    const want = words(
      readFileSync(new URL('../../fixtures/pdf/docling-multi_page.pdf.expected.md', import.meta.url), 'utf8'),
    );
    const found = want.filter((w) => got.has(w)).length / want.length;
    expect(found).toBeGreaterThan(0.97);
    expect(doc.title).toBeTruthy();
  });
  it('decodes CJK text that needs the bundled predefined CMaps', async () => {
    const doc = await extract(fixture('pdfjs-vertical.pdf'));
    expect(allText(doc)).toContain('日本語');
    expect(allText(doc)).toContain('あいうえお');
  });
  it('fails an encrypted PDF with ENCRYPTED', async () => {
    expect(await codeOf(extract(fixture('uns-password.pdf')))).toBe('ENCRYPTED');
  });
  it('fails an image-only PDF with NO_TEXT and suggests OCR', async () => {
    await expect(extract(fixture('tika-testOCR.pdf'))).rejects.toMatchObject({
      code: 'NO_TEXT',
      message: /OCR/,
    });
    expect(await codeOf(extract(await makeBlankPdf()))).toBe('NO_TEXT');
  });
  it('fails invalid and fuzzed PDFs with CORRUPT_FILE', async () => {
    expect(await codeOf(extract(fixture('pdfparse-invalid.pdf')))).toBe('CORRUPT_FILE');
    expect(await codeOf(extract(fixture('pdfjs-poppler-395-0-fuzzed.pdf')))).toBe('CORRUPT_FILE');
  });
  it('fails a truncated PDF with CORRUPT_FILE', async () => {
    const full = fixture('docling-multi_page.pdf');
    for (const cut of [0.1, 0.5, 0.99]) {
      expect(await codeOf(extract(full.slice(0, Math.floor(full.length * cut))))).toBe('CORRUPT_FILE');
    }
  });
  it('keeps the good pages of a PDF with a broken page and lists the failed one', async () => {
    const doc = await extract(await makePdfWithBrokenPage());
    expect(doc.sections[0]).toEqual({ text: 'Text of page 1', page: 1 });
    expect(doc.metadata['failedPages']).toContain(2);
  });
  it('fails garbage and HTML named .pdf with CORRUPT_FILE', async () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    expect(await codeOf(extract(garbage))).toBe('CORRUPT_FILE');
    expect(await codeOf(extract(new TextEncoder().encode('<html><body>hi</body></html>')))).toBe(
      'CORRUPT_FILE',
    );
  });
});

describe('text normalisation', () => {
  it('expands ligatures, plain-spaces odd spaces and drops soft hyphens', () => {
    expect(normalisePdfText('eﬃcient ﬁnal\u00a0text\u2009here co\u00adop')).toBe(
      'efficient final text here coop',
    );
  });
  it('reads right-to-left rows from the right', () => {
    const lines = readingOrder([
      { str: 'Python', x: 10, y: 20, width: 30, size: 10 },
      { str: 'تعتبر البرمجة', x: 60, y: 20, width: 50, size: 10 },
    ]);
    expect(lines[0]?.text).toBe('تعتبر البرمجة Python');
  });
});

describe('pdfDate', () => {
  it('parses PDF dates with and without offsets', () => {
    expect(pdfDate('D:20201002001208Z')).toBe('2020-10-02T00:12:08.000Z');
    expect(pdfDate("D:20240102030405+02'00'")).toBe('2024-01-02T01:04:05.000Z');
    expect(pdfDate('garbage')).toBeUndefined();
  });
});

describe('pdf through sniffing and the registry', () => {
  it('garbage named .pdf fails CORRUPT_FILE; a real PDF named .txt is still a PDF', async () => {
    const { sniffType } = await import('../../../src/extractors/sniff.ts');
    const { pickExtractor } = await import('../../../src/extractors/index.ts');
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    const mime = await sniffType(garbage, 'paper.pdf');
    expect(await codeOf(pickExtractor(mime).extract({ bytes: garbage, mime, limits: DEFAULT_LIMITS }))).toBe(
      'CORRUPT_FILE',
    );
    expect(await sniffType(fixture('docling-multi_page.pdf'), 'notes.txt')).toBe('application/pdf');
  });
});

describe('pdf pages survive cleaning and chunking', () => {
  it('the chunk holding the page-7 phrase reports page 7; a chunk spanning pages says so', async () => {
    const { cleanDocument } = await import('../../../src/transforms/clean.ts');
    const { chunkDocument } = await import('../../../src/transforms/chunk.ts');
    const doc = cleanDocument(await extract(await makeReportPdf()));
    const small = await chunkDocument(doc, { size: 400, overlap: 0 });
    const hit = small.filter((c) => c.text.includes(PHRASE));
    expect(hit.map((c) => [c.metadata.pageStart, c.metadata.pageEnd])).toEqual([[7, 7]]);
    const big = await chunkDocument(doc, { size: 3000, overlap: 0 });
    expect(big.some((c) => (c.metadata.pageEnd ?? 0) > (c.metadata.pageStart ?? 0))).toBe(true);
  });
});
