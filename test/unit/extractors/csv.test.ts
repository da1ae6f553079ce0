// CSV/TSV extractor: dialect and charset detection, header repeated per block with
// row ranges, quoted fields, ragged rows, and a file over the text limit stopped early.
import { describe, expect, it } from 'vitest';
import { csvExtractor, sniffDelimiter } from '../../../src/extractors/csv.ts';
import { DEFAULT_LIMITS } from '../../../src/extractors/types.ts';
import { runExtractorContract } from './contract.ts';
import { fixture } from './fixtures.ts';
import { allText, chunksOf, codeOf } from './office-helpers.ts';

const csv = (text: string | Uint8Array, mime = 'text/csv', limits = DEFAULT_LIMITS) =>
  csvExtractor.extract({
    bytes: typeof text === 'string' ? new TextEncoder().encode(text) : text,
    mime,
    limits,
  });

runExtractorContract(csvExtractor, { sample: fixture('csv/docling-csv-comma.csv'), mime: 'text/csv' });

describe('csv extractor', () => {
  it.each([
    ['a,b,c\n1,2,3\n', ','],
    ['a;b;c\n1;2,5;3\n4;5;6\n', ';'],
    ['a\tb\tc\n1\t2\t3\n', '\t'],
    ['a|b|c\n1|2|3\n', '|'],
    ['"x, y";b\n"1, 2";3\n', ';'],
  ])('detects the delimiter of %j', (text, delim) => {
    expect(sniffDelimiter(text, ',')).toBe(delim);
  });

  it('reads quoted fields with delimiters and line breaks inside', async () => {
    const doc = await csv('name;note\n"Smith, J";"two\nlines"\nDoe;"say ""hi"""\n');
    expect(allText(doc)).toBe('name | note\nSmith, J | two lines\nDoe | say "hi"');
    expect(doc.metadata).toMatchObject({ delimiter: ';', rows: 3, charset: 'utf-8' });
  });

  it('decodes a legacy-encoded file (windows-1252) and a UTF-16 one', async () => {
    const latin = new Uint8Array(Buffer.from('city,temp\nMünchen,12\nZürich,9\n', 'latin1'));
    expect(allText(await csv(latin))).toContain('München | 12');
    const utf16 = new Uint8Array(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\tb\nÅ\tØ\n', 'utf16le')]),
    );
    expect(allText(await csv(utf16, 'text/tab-separated-values'))).toBe('a | b\nÅ | Ø');
  });

  it('keeps ragged rows (more fields than the header)', async () => {
    expect(allText(await csv(fixture('csv/docling-csv-comma.csv')))).toContain('Lozano, Dr');
    expect(allText(await csv('1,2\na,b,c\n'))).toBe('1 | 2\na | b | c');
  });

  it('repeats the header in every block and gives chunks row ranges', async () => {
    const lines = [
      'id,city,remark',
      ...Array.from({ length: 400 }, (_, i) => `${i + 1},Town ${i + 1},fine weather today`),
    ];
    const doc = await csv(`${lines.join('\n')}\n`);
    expect(doc.sections.length).toBeGreaterThan(5);
    for (const s of doc.sections) expect(s.text.startsWith('id | city | remark\n')).toBe(true);
    expect(doc.sections[0]!.rows).toEqual({ start: 1, end: expect.any(Number) });
    expect(doc.sections.at(-1)!.rows!.end).toBe(401);
    const chunks = await chunksOf(doc);
    for (const c of chunks) {
      expect(c.text.startsWith('id | city | remark')).toBe(true);
      const first = Number(/\n(\d+) \|/.exec(c.text)![1]);
      expect(Math.max(c.metadata.rowStart!, 2)).toBe(first + 1);
    }
  });

  it('stops a huge file at the text limit with TOO_LARGE', async () => {
    const big = `h1,h2\n${'value,another value\n'.repeat(200_000)}`;
    expect(await codeOf(csv(big, 'text/csv', { ...DEFAULT_LIMITS, maxTextChars: 100_000 }))).toBe(
      'TOO_LARGE',
    );
  });

  it('fails a record longer than a megabyte (an unclosed quote) with CORRUPT_FILE', async () => {
    expect(await codeOf(csv(`a,b\n"${'x'.repeat(1_100_000)}\n`))).toBe('CORRUPT_FILE');
  });

  it('puts a title line on its own, then the table', async () => {
    const doc = await csv(fixture('csv/uns-stanley-cups-with-emoji.csv'));
    expect(doc.sections[0]!.text).toBe('Stanley Cups');
    expect(doc.sections[1]!.text.split('\n')[0]).toBe('Team | Location | Stanley Cups');
  });
});

describe('csv extractor: stopping early', () => {
  it('does not hang when the text limit is crossed while the parser is backed up', async () => {
    // Many small records: the parser's buffer fills, so the feeder is waiting to write when the limit trips.
    const big = `a,b\n${'1,2\n'.repeat(2_000_000)}`;
    const limits = { ...DEFAULT_LIMITS, maxTextChars: 1_000 };
    expect(await codeOf(csv(big, 'text/csv', limits))).toBe('TOO_LARGE');
  }, 30_000);
});
