// XLSX extractor: sheets as heading paths, header repeated per block, row ranges,
// merged cells, cached formula values, dates; encrypted, bombs and huge sheets.
import { describe, expect, it } from 'vitest';
import { xlsxExtractor } from '../../../src/extractors/xlsx.ts';
import { serialToIso } from '../../../src/extractors/xlsx-cells.ts';
import { makeXlsx } from '../../helpers/make-office.ts';
import { runExtractorContract } from './contract.ts';
import { fixture } from './fixtures.ts';
import { allText, chunksOf, codeOf, run } from './office-helpers.ts';

runExtractorContract(xlsxExtractor, {
  sample: fixture('xlsx/uns-stanley-cups.xlsx'),
  mime: xlsxExtractor.mimeTypes[0]!,
});

describe('xlsx extractor: generated workbook', async () => {
  const rows = Array.from({ length: 120 }, (_, i) => [
    `Item ${i + 1}`,
    i + 1,
    { f: `B${i + 2}*2`, v: (i + 1) * 2 },
  ]);
  const book = makeXlsx([
    { name: 'Inventory', rows: [['Name', 'Count', 'Double'], ...rows] },
    {
      name: 'Merged',
      rows: [
        ['Quarterly report', null, null],
        ['Region', 'Q1', 'Q2'],
        ['North', 5, 6],
        [null, 7, 8],
      ],
      merges: ['A1:C1', 'A3:A4'],
    },
    {
      name: 'Archive',
      rows: [
        ['Old', 'data'],
        ['x', 1],
      ],
      hidden: true,
    },
  ]);
  const doc = await run(xlsxExtractor, book);

  it('puts each sheet name in the heading path, in workbook order', () => {
    expect([...new Set(doc.sections.map((s) => s.headingPath?.[0]))]).toEqual([
      'Inventory',
      'Merged',
      'Archive',
    ]);
    expect(doc.metadata).toMatchObject({
      sheets: ['Inventory', 'Merged', 'Archive'],
      hiddenSheets: ['Archive'],
    });
  });

  it('reads formulas as their cached values', () => {
    expect(allText(doc)).toContain('Item 7 | 7 | 14');
    expect(allText(doc)).not.toContain('B8*2');
  });

  it('repeats the header row at the start of every block and records row ranges', () => {
    const blocks = doc.sections.filter((s) => s.headingPath?.[0] === 'Inventory');
    expect(blocks.length).toBeGreaterThan(2);
    for (const b of blocks) expect(b.text.startsWith('Name | Count | Double\n')).toBe(true);
    expect(blocks[0]!.rows!.start).toBe(1);
    expect(blocks.at(-1)!.rows!.end).toBe(121);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.rows!.start).toBe(blocks[i - 1]!.rows!.end + 1);
  });

  it('resolves merged cells: a title once, a vertical merge on every row it spans', () => {
    const merged = doc.sections.filter((s) => s.headingPath?.[0] === 'Merged').map((s) => s.text);
    expect(merged).toEqual(['Quarterly report', 'Region | Q1 | Q2\nNorth | 5 | 6\nNorth | 7 | 8']);
  });

  it('gives every chunk its sheet, its header and its row range', async () => {
    const chunks = await chunksOf(doc);
    const inventory = chunks.filter((c) => c.metadata.headingPath[0] === 'Inventory');
    expect(inventory.length).toBeGreaterThan(2);
    for (const c of inventory) {
      expect(c.text.startsWith('Name | Count | Double')).toBe(true);
      expect(c.metadata.rowStart).toBeLessThanOrEqual(c.metadata.rowEnd!);
      const firstItem = Number(/Item (\d+)/.exec(c.text)![1]);
      expect(c.metadata.rowStart === 1 ? 2 : c.metadata.rowStart).toBe(firstItem + 1);
    }
  });

  it('turns date serials into ISO dates', () => {
    expect(serialToIso(45000, false)).toBe('2023-03-15');
    expect(serialToIso(45000.5, false)).toBe('2023-03-15 12:00:00');
    expect(serialToIso(0, true)).toBe('1904-01-01');
  });
});

describe('xlsx extractor: corpus workbooks', () => {
  it('reads the Vodafone index as titled tables', async () => {
    const doc = await run(xlsxExtractor, fixture('xlsx/uns-vodafone.xlsx'));
    expect(doc.sections.map((s) => s.text.split('\n')[0])).toContain('Financial performance');
    expect(allText(doc)).toContain('Quarterly revenue | Nine quarters to 30 June 2023 |  |  | 1');
    expect(doc.sections.every((s) => s.headingPath?.[0] === 'Index')).toBe(true);
  });

  it('separates a title row from the table under it', async () => {
    const doc = await run(xlsxExtractor, fixture('xlsx/docling-xlsx_05_table_with_title.xlsx'));
    expect(doc.sections.map((s) => s.text)).toEqual([
      'Number of freshwater ducks per year',
      'Year | Freshwater Ducks\n2019 | 120\n2020 | 135\n2021 | 150\n2022 | 170\n2023 | 160\n2024 | 180',
    ]);
    expect(doc.sections[1]!.rows).toEqual({ start: 4, end: 10 });
  });

  it('reads a chart as its title, type and cached series data under its sheet name', async () => {
    const doc = await run(xlsxExtractor, fixture('xlsx/docling-xlsx_03_chartsheet.xlsx'));
    const chart = doc.sections.find((s) => s.headingPath?.[0] === 'Duck Chart');
    expect(chart?.text).toContain(
      'Wild Duck Observations by Year\nBar chart\n| Freshwater Ducks | Saltwater Ducks\n2019 | 120 | 80',
    );
  });

  it('says XLSX (not DOCX) for a password-protected workbook', async () => {
    await expect(run(xlsxExtractor, fixture('xlsx/uns-password_protected.xlsx'))).rejects.toMatchObject({
      code: 'ENCRYPTED',
      message: expect.stringMatching(/^XLSX is password-protected.*remove the password/),
    });
  });
});

describe('xlsx extractor: hostile workbooks', () => {
  it('refuses the billion-laughs shared-string table', async () => {
    expect(['CORRUPT_FILE', 'TOO_LARGE']).toContain(
      await codeOf(run(xlsxExtractor, fixture('xlsx/poi-poc-xmlbomb.xlsx'))),
    );
  });

  it('refuses an entity declaration even in a small part', async () => {
    const book = makeXlsx([{ name: 'S', rows: [['a']] }], {
      'xl/sharedStrings.xml':
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x "y">]><sst><si><t>&x;</t></si></sst>',
    });
    expect(await codeOf(run(xlsxExtractor, book))).toBe('CORRUPT_FILE');
  });

  it('fails a sheet of millions of cells with TOO_LARGE, not out of memory', async () => {
    // 2.1 million cells written compactly (no r attributes), ~30 MB of XML stored uncompressed.
    const row = `<row>${'<c><v>1</v></c>'.repeat(1000)}</row>`;
    const sheet = `<?xml version="1.0"?><worksheet><sheetData>${row.repeat(2100)}</sheetData></worksheet>`;
    const book = makeXlsx([{ name: 'Huge', rows: [['x']] }], {}, { 'xl/worksheets/sheet1.xml': sheet });
    await expect(run(xlsxExtractor, book)).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringContaining('cells'),
    });
  }, 30_000);

  it('fails a shared-string table of millions of entries with TOO_LARGE', async () => {
    const sst = `<?xml version="1.0"?><sst>${'<si><t>s</t></si>'.repeat(2_100_000)}</sst>`;
    const book = makeXlsx([{ name: 'S', rows: [['a']] }], {}, { 'xl/sharedStrings.xml': sst });
    await expect(run(xlsxExtractor, book)).rejects.toMatchObject({
      code: 'TOO_LARGE',
      message: expect.stringContaining('shared strings'),
    });
  }, 30_000);

  it('fails corrupted OOXML content with a code or reads what is there', async () => {
    const result = await run(xlsxExtractor, fixture('xlsx/poi-xlsx-corrupted.xlsx')).then(
      (d) => allText(d),
      (e: { code: string }) => e.code,
    );
    expect(result === 'CORRUPT_FILE' || result.includes('second | row | data')).toBe(true);
  });
});
