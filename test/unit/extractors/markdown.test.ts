import { describe, expect, it } from 'vitest';
import { markdownExtractor } from '../../../src/extractors/markdown.ts';
import { DEFAULT_LIMITS, type ExtractedDocument } from '../../../src/extractors/types.ts';
import { runExtractorContract } from './contract.ts';
import { fixture, fixtureText, trigramRecall } from './fixtures.ts';

const mime = 'text/markdown';
const run = (bytes: Uint8Array) => markdownExtractor.extract({ bytes, mime, limits: DEFAULT_LIMITS });
const md = (s: string) => run(new TextEncoder().encode(s));
const all = (doc: ExtractedDocument) => doc.sections.map((s) => s.text).join('\n\n');

runExtractorContract(markdownExtractor, { sample: fixture('md/docling-wiki.md'), mime });

describe('markdown extractor on docling fixtures', () => {
  it.each(['docling-wiki', 'docling-mixed', 'docling-nested', 'docling-ending_with_table'])(
    '%s matches the expected text (word trigram recall ≥ 0.9)',
    async (name) => {
      const doc = await run(fixture(`md/${name}.md`));
      const recall = trigramRecall(all(doc), fixtureText(`md/${name}.md.expected.md`));
      expect(recall).toBeGreaterThanOrEqual(0.9);
    },
  );

  it('drops HTML comments and raw tags but keeps their text', async () => {
    const doc = await run(fixture('md/docling-nested.md'));
    const text = all(doc);
    expect(text).not.toContain('Table nesting apparently');
    expect(text).not.toContain('<li>');
    expect(text).toContain('Subitem 2');
  });

  it('decodes Latin-1 Markdown', async () => {
    const doc = await run(fixture('md/uns-umlauts-non-utf8.md'));
    expect(doc.sections[0]?.headingPath).toEqual(['können']);
    expect(all(doc)).toContain('äöüß');
  });
});

describe('markdown structure', () => {
  it('puts front matter in metadata and takes the title from it', async () => {
    const doc = await md('---\ntitle: From YAML\ntags: [a, b]\n---\n# Heading One\n\nBody.\n');
    expect(doc.title).toBe('From YAML');
    expect(doc.metadata.frontMatter).toEqual({ title: 'From YAML', tags: ['a', 'b'] });
    expect(all(doc)).not.toContain('tags:');
  });

  it('refuses YAML alias bombs without hanging', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      bomb.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const doc = await md(`---\n${bomb.join('\n')}\n---\n# Safe\n\ntext\n`);
    expect(doc.metadata.frontMatter).toBeUndefined();
    expect(doc.metadata.frontMatterError).toMatch(/alias|invalid/i);
    expect(doc.title).toBe('Safe');
  });

  it('builds heading paths from ATX and setext headings', async () => {
    const doc = await md(
      'Top\n===\n\nintro\n\nPart A\n------\n\na text\n\n### Deep ###\n\ndeep text\n\n## Part B\n\nb text\n',
    );
    expect(doc.title).toBe('Top');
    expect(doc.sections.map((s) => s.headingPath)).toEqual([
      ['Top'],
      ['Top', 'Part A'],
      ['Top', 'Part A', 'Deep'],
      ['Top', 'Part B'],
    ]);
    expect(doc.sections[2]?.text).toBe('Deep\n\ndeep text');
  });

  it('keeps fenced code verbatim, headings inside it are not headings', async () => {
    const doc = await md('# A\n\n```sh\n# not a heading\necho  "hi"\n```\n');
    expect(doc.sections).toHaveLength(1);
    expect(doc.sections[0]?.text).toContain('# not a heading\necho  "hi"');
  });

  it('turns pipe tables into cell | cell rows without the delimiter row', async () => {
    const doc = await md('| h1 | h2 |\n| --- | :-: |\n| a | b |\n');
    expect(all(doc)).toBe('h1 | h2\na | b');
  });

  it('keeps link text and drops the URL', async () => {
    const doc = await md('See [the docs](https://example.com/x) and ![a cat](cat.png).');
    expect(all(doc)).toBe('See the docs and a cat.');
  });
});
