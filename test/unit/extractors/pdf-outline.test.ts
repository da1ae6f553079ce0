// PDF bookmarks become heading paths: each page's text is split where an outline
// entry's destination starts, and chunks carry the path (issue 12: PDF chunks
// never had one).
import { describe, expect, it } from 'vitest';
import { pdfExtractor } from '../../../src/extractors/pdf.ts';
import { DEFAULT_LIMITS } from '../../../src/extractors/types.ts';
import { chunkDocument } from '../../../src/transforms/chunk.ts';
import { cleanDocument } from '../../../src/transforms/clean.ts';
import { makeOutlinedPdf, OUTLINED } from '../../helpers/make-outlined-pdf.ts';
import { makeReportPdf } from '../../helpers/make-pdf.ts';

async function extract(bytes: Uint8Array) {
  return pdfExtractor.extract({ bytes, mime: 'application/pdf', limits: DEFAULT_LIMITS });
}

describe('PDF outline → heading path', () => {
  it('splits pages where bookmarks start and gives each section its path from the outline root', async () => {
    const doc = await extract(await makeOutlinedPdf());
    const where = (needle: string) => doc.sections.find((s) => s.text.includes(needle));
    expect(where(OUTLINED.intro)).toMatchObject({ page: 1, headingPath: ['Introduction'] });
    // Page 2 starts in the introduction and switches to Methods at its bookmark's y.
    expect(where(OUTLINED.introMore)).toMatchObject({ page: 2, headingPath: ['Introduction'] });
    expect(where(OUTLINED.methods)).toMatchObject({ page: 2, headingPath: ['Methods'] });
    expect(where(OUTLINED.introMore)?.text).not.toContain(OUTLINED.methods);
    expect(where(OUTLINED.results)).toMatchObject({ page: 3, headingPath: ['Methods', 'Results'] });
    // A page with no entry of its own stays in the section in force.
    expect(where('Appendix text')).toMatchObject({ page: 4, headingPath: ['Methods', 'Results'] });
  });

  it('chunks of an outlined PDF carry the heading path and embed it as context', async () => {
    const doc = cleanDocument(await extract(await makeOutlinedPdf()));
    const chunks = await chunkDocument(doc, { size: 1000, overlap: 0, minSize: 0 });
    const results = chunks.find((c) => c.text.includes(OUTLINED.results));
    expect(results?.metadata.headingPath).toEqual(['Methods', 'Results']);
    expect(results?.metadata.embedContext).toBe('Inventory Study › Methods › Results');
    expect(chunks.every((c) => c.metadata.headingPath.length > 0)).toBe(true);
  });

  it('a PDF without an outline keeps one section per page, no heading path', async () => {
    const doc = await extract(await makeReportPdf(3, 2));
    expect(doc.sections.map((s) => s.page)).toEqual([1, 2, 3]);
    expect(doc.sections.every((s) => s.headingPath === undefined)).toBe(true);
  });
});
