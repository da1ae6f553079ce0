// Chunks a search can use: no heading-only or tiny chunks (they ranked first for
// everything), no Markdown link-reference blocks, and each chunk embedded with its
// document title and heading path while the stored text stays the plain chunk.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownExtractor } from '../../../src/extractors/markdown.ts';
import { DEFAULT_LIMITS, type ExtractedDocument } from '../../../src/extractors/types.ts';
import { chunkDocument, embeddingContext, SECTION_SEPARATOR } from '../../../src/transforms/chunk.ts';
import { cleanDocument } from '../../../src/transforms/clean.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const words = (w: string, n: number) => Array.from({ length: n }, (_, i) => `${w}${i}`).join(' ');

async function markdown(text: string): Promise<ExtractedDocument> {
  const doc = await markdownExtractor.extract({
    bytes: new TextEncoder().encode(text),
    mime: 'text/markdown',
    limits: DEFAULT_LIMITS,
  });
  return cleanDocument(doc);
}

describe('chunk quality', () => {
  it('never emits a chunk that is only a heading: it joins the section it introduces', async () => {
    const doc = await markdown(
      `# Guide\n\n${words('intro', 60)}\n\n## Security\n\n### Reporting\n\n${words('report', 60)}\n\n## Empty heading at the end\n`,
    );
    const chunks = await chunkDocument(doc, { size: 1000, overlap: 0 });
    const headingOnly = chunks.filter((c) => c.text.trim() === c.metadata.headingPath.at(-1));
    expect(headingOnly).toEqual([]);
    expect(chunks.some((c) => c.text.trim() === 'Security')).toBe(false);
    expect(chunks.some((c) => c.text.includes('Empty heading at the end'))).toBe(false);
    const reporting = chunks.find((c) => c.text.includes('report0'))!;
    expect(reporting.text.startsWith('Security\n\nReporting\n\n')).toBe(true);
    expect(reporting.metadata.headingPath).toEqual(['Guide', 'Security']);
  });

  it('keeps a document made only of headings as one chunk instead of none (an e-mail with a subject alone)', async () => {
    const chunks = await chunkDocument(
      { metadata: {}, sections: [{ text: 'I have attachments!', headingPath: ['I have attachments!'] }] },
      { size: 1000, overlap: 0 },
    );
    expect(chunks.map((c) => c.text)).toEqual(['I have attachments!']);
  });

  it('merges sections under the size floor into a neighbour of the same outline branch, not a sibling', async () => {
    const doc: ExtractedDocument = {
      metadata: {},
      sections: [
        { text: `Install\n\n${words('inst', 40)}`, headingPath: ['Install'] },
        { text: 'Signed: the maintainers', headingPath: ['Install'] },
        { text: `Usage\n\n${words('use', 40)}`, headingPath: ['Usage'] },
        { text: 'See below.', headingPath: ['Usage'] },
        { text: `Flags\n\n${words('flag', 40)}`, headingPath: ['Usage', 'Flags'] },
      ],
    };
    const chunks = await chunkDocument(doc, { size: 2000, overlap: 0, minSize: 400 });
    const texts = chunks.map((c) => c.text);
    // The signature line stays with Install; "See below." joins its subsection; Install and Usage stay apart.
    expect(texts.find((t) => t.includes('Signed'))).toContain('inst0');
    expect(texts.find((t) => t.includes('See below.'))).toContain('flag0');
    expect(texts.find((t) => t.includes('inst0'))).not.toContain('use0');
    expect(chunks.every((c) => c.text.length >= 80)).toBe(true);
    const usage = chunks.find((c) => c.text.includes('flag0'))!;
    expect(usage.metadata.headingPath).toEqual(['Usage']);
  });

  it('drops Markdown link-reference definitions, keeping offsets into the document text', async () => {
    const doc = await markdown(
      `# Links\n\nRead the [guide][g] and the [spec][s] before you start; ${words('body', 40)}\n\n[g]: https://example.org/guide "The guide"\n[s]: <https://example.org/spec>\n\n[^1]: A footnote stays.\n`,
    );
    const chunks = await chunkDocument(doc, { size: 1000, overlap: 0 });
    const all = chunks.map((c) => c.text).join('\n');
    expect(all).not.toContain('https://example.org');
    expect(all).toContain('A footnote stays.');
    const joined = doc.sections.map((s) => s.text).join(SECTION_SEPARATOR);
    for (const c of chunks) {
      expect(joined.slice(c.metadata.charStart, c.metadata.charStart + 20)).toBe(c.text.slice(0, 20));
    }
  });

  it('embeds each chunk with title and heading path; stores the plain text; hashes what is embedded', async () => {
    const doc: ExtractedDocument = {
      title: 'Employee Handbook',
      metadata: {},
      sections: [{ text: words('leave', 50), headingPath: ['Benefits', 'Parental leave'] }],
    };
    const [chunk] = await chunkDocument(doc, { size: 1000, overlap: 0 });
    expect(chunk!.text).toBe(words('leave', 50));
    expect(chunk!.metadata.embedContext).toBe('Employee Handbook › Benefits › Parental leave');
    expect(chunk!.embedText).toBe(`Employee Handbook › Benefits › Parental leave\n\n${chunk!.text}`);
    expect(chunk!.contentHash).toBe(sha(chunk!.embedText!));
    // Context and text are counted apart (the estimate rounds each up).
    const context = 'Employee Handbook › Benefits › Parental leave\n\n';
    expect(chunk!.tokenCount).toBe(Math.ceil(context.length / 4) + Math.ceil(chunk!.text.length / 4));
  });

  it('a title equal to the first heading is given once; no title and no heading means no context', () => {
    expect(embeddingContext('Guide', ['Guide', 'Install'])).toBe('Guide › Install');
    expect(embeddingContext(undefined, [])).toBeUndefined();
    expect(embeddingContext('  ', [])).toBeUndefined();
  });

  it('leaves room for the context under maxTokens', async () => {
    const doc: ExtractedDocument = {
      title: 'A rather long document title that takes tokens',
      metadata: {},
      sections: [{ text: words('w', 400), headingPath: ['Chapter one'] }],
    };
    const chunks = await chunkDocument(doc, { size: 4000, overlap: 0, maxTokens: 100 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.tokenCount).toBeLessThanOrEqual(100);
  });

  it('a real README: no chunk under 80 characters, none heading-only', async () => {
    const path = join(import.meta.dirname, '../../fixtures/md/docling-wiki.md');
    const doc = await markdown(readFileSync(path, 'utf8'));
    const chunks = await chunkDocument(doc, { size: 1000, overlap: 150 });
    expect(chunks.length).toBeGreaterThan(5);
    const tiny = chunks.filter((c) => c.text.length < 80).map((c) => c.text);
    expect(tiny).toEqual([]);
  });
});
