// DOCX extractor: structure (headings, lists, tables, footnotes) from generated and
// corpus files, and hostile archives that must fail with codes before mammoth runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { docxExtractor } from '../../../src/extractors/docx.ts';
import { DEFAULT_LIMITS, type ExtractedDocument } from '../../../src/extractors/types.ts';
import { docxLike, makeStructuredDocx } from '../../helpers/make-docx.ts';
import { runExtractorContract } from './contract.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/docx/${name}`, import.meta.url)));
const extract = (bytes: Uint8Array, limits = DEFAULT_LIMITS): Promise<ExtractedDocument> =>
  docxExtractor.extract({ bytes, mime: docxExtractor.mimeTypes[0]!, limits });
const codeOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );
const allText = (d: ExtractedDocument): string => d.sections.map((s) => s.text).join('\n\n');
const DOC_XML = (body: string): string =>
  '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">' +
  `<w:body>${body}</w:body></w:document>`;

runExtractorContract(docxExtractor, {
  sample: fixture('mammoth-tables.docx'),
  mime: docxExtractor.mimeTypes[0]!,
});

describe('docx extractor: generated document', async () => {
  const doc = await extract(await makeStructuredDocx());
  const section = (last: string) => doc.sections.find((s) => s.headingPath?.at(-1) === last);

  it('turns headings into heading paths', () => {
    expect(doc.sections.map((s) => s.headingPath)).toEqual([
      ['Birds'],
      ['Birds', 'Waders'],
      ['Mammals'],
      ['Notes'],
    ]);
  });
  it('keeps list items and table rows with a header row and ` | ` cells', () => {
    expect(section('Waders')?.text).toBe('Waders\n\n- Curlew\n- Redshank\n\nSpecies | Count\nCurlew | 12');
  });
  it('appends footnotes and keeps the reference mark', () => {
    expect(section('Birds')?.text).toContain('Birds are common here.[1]');
    expect(doc.sections.at(-1)?.text).toBe('[1] Observed in spring only.');
  });
  it('reads title and author from core properties', () => {
    expect(doc.title).toBe('Field Guide');
    expect(doc.metadata).toMatchObject({ title: 'Field Guide', author: 'Test Author' });
  });
});

describe('docx extractor: corpus documents', () => {
  it('mammoth tables.docx: rows with cells separated', async () => {
    expect(allText(await extract(fixture('mammoth-tables.docx')))).toBe(
      'Above\n\nTop left | Top right\nBottom left | Bottom right\n\nBelow',
    );
  });
  it('mammoth footnotes.docx: footnotes appended', async () => {
    const doc = await extract(fixture('mammoth-footnotes.docx'));
    expect(allText(doc)).toBe('Ouch[1].[2]\n\n[1] A tachyon walks into a bar.\n[2] Fin.');
  });
  it('docling word_tables.docx: header rows kept, spans expanded', async () => {
    const text = allText(await extract(fixture('docling-word_tables.docx')));
    expect(text).toContain('Header 0.0 | Header 0.1 | Header 0.2\nCell 1.0 | Cell 1.1 | Cell 1.2');
    // Merged cells repeat across the columns and rows they span.
    expect(text).toContain('Cell 1.0 | Merged Cell 1.1 1.2 | Merged Cell 1.1 1.2');
    expect(text).toContain('Cell 2.0 | Merged Cell 1.1 2.1 | Cell 2.2');
  });
  it('unstructured handbook: headings and body text', async () => {
    const doc = await extract(fixture('uns-handbook-1p.docx'));
    expect(allText(doc)).toContain('The United States Trustee appoints and supervises standing trustees');
  });
  it('docling lorem_ipsum and header/footer documents extract', async () => {
    expect(allText(await extract(fixture('docling-lorem_ipsum.docx')))).toMatch(/Lorem ipsum/i);
    expect(
      allText(await extract(fixture('docling-docx_page_header_footer_first_page.docx'))).length,
    ).toBeGreaterThan(0);
  });
});

describe('docx extractor: hostile files', () => {
  it('refuses a DOCX declaring an external entity (POI) with CORRUPT_FILE', async () => {
    expect(await codeOf(extract(fixture('poi-ExternalEntityInText.docx')))).toBe('CORRUPT_FILE');
  });
  it('refuses an entity-expansion bomb with CORRUPT_FILE', async () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>' +
      '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>&lol2;</w:body></w:document>';
    expect(await codeOf(extract(docxLike({ 'word/document.xml': bomb })))).toBe('CORRUPT_FILE');
  });
  it('refuses a zip bomb (declared ratio) with TOO_LARGE without inflating it', async () => {
    const zeros = new Uint8Array(20 * 1024 * 1024);
    expect(await codeOf(extract(docxLike({ 'word/document.xml': zeros })))).toBe('TOO_LARGE');
  });
  it('refuses an entry inflating beyond its declared size with TOO_LARGE', async () => {
    const big = Buffer.from(DOC_XML(`<w:p><w:r><w:t>${'a'.repeat(200_000)}</w:t></w:r></w:p>`));
    const bytes = docxLike({}, [{ name: 'word/document.xml', data: big, declaredSize: 1000 }]);
    expect(await codeOf(extract(bytes))).toBe('TOO_LARGE');
  });
  it('refuses a declared total above maxDecompressedBytes with TOO_LARGE', async () => {
    const bytes = docxLike({ 'word/document.xml': DOC_XML('<w:p/>') });
    expect(await codeOf(extract(bytes, { ...DEFAULT_LIMITS, maxDecompressedBytes: 100 }))).toBe('TOO_LARGE');
  });
  it('refuses a path-traversal entry with CORRUPT_FILE', async () => {
    const bytes = docxLike({ 'word/document.xml': DOC_XML('<w:p/>'), '../../evil.sh': 'rm -rf /' });
    expect(await codeOf(extract(bytes))).toBe('CORRUPT_FILE');
  });
  it('fails truncated and garbage files named .docx with CORRUPT_FILE', async () => {
    expect(await codeOf(extract(fixture('tika-testWORD_truncated.docx')))).toBe('CORRUPT_FILE');
    expect(await codeOf(extract(new TextEncoder().encode('this is not a zip file at all')))).toBe(
      'CORRUPT_FILE',
    );
    const full = await makeStructuredDocx();
    expect(await codeOf(extract(full.slice(0, full.length - 40)))).toBe('CORRUPT_FILE');
  });
  it('fails a ZIP that is not an Office document with CORRUPT_FILE', async () => {
    const { writeZip } = await import('../../helpers/make-docx.ts');
    expect(await codeOf(extract(writeZip([{ name: 'a.txt', data: Buffer.from('hi') }])))).toBe(
      'CORRUPT_FILE',
    );
  });
  it('fails a password-protected DOCX with ENCRYPTED', async () => {
    expect(await codeOf(extract(fixture('tika-testWORD_protected_passtika.docx')))).toBe('ENCRYPTED');
  });
});

describe('docx through sniffing and the registry', () => {
  const run = async (bytes: Uint8Array, name: string): Promise<unknown> => {
    const { sniffType } = await import('../../../src/extractors/sniff.ts');
    const { pickExtractor } = await import('../../../src/extractors/index.ts');
    const mime = await sniffType(bytes, name);
    return codeOf(pickExtractor(mime).extract({ bytes, mime, filename: name, limits: DEFAULT_LIMITS }));
  };
  it('garbage named .docx fails CORRUPT_FILE, a protected .docx fails ENCRYPTED', async () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    expect(await run(garbage, 'report.docx')).toBe('CORRUPT_FILE');
    expect(await run(fixture('tika-testWORD_protected_passtika.docx'), 'x.docx')).toBe('ENCRYPTED');
    expect(await run(fixture('mammoth-tables.docx'), 'renamed.bin')).toBe('resolved');
  });
});

describe('docx heading paths survive cleaning and chunking', () => {
  it('chunks carry the heading path of their section', async () => {
    const { cleanDocument } = await import('../../../src/transforms/clean.ts');
    const { chunkDocument } = await import('../../../src/transforms/chunk.ts');
    const chunks = await chunkDocument(cleanDocument(await extract(await makeStructuredDocx())), {
      size: 60,
      overlap: 0,
    });
    const curlew = chunks.find((c) => c.text.includes('Curlew | 12'));
    expect(curlew?.metadata.headingPath).toEqual(['Birds', 'Waders']);
    expect(chunks.find((c) => c.text.includes('Otters'))?.metadata.headingPath).toEqual(['Mammals']);
  });
});
