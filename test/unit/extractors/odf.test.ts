// OpenDocument extractors (ODT, ODS, ODP): headings, numbered lists, notes, tables
// with spans, sheets with repeated rows, slides with notes; corpus files; hostile parts.
import { describe, expect, it } from 'vitest';
import { odpExtractor } from '../../../src/extractors/odp.ts';
import { odsExtractor } from '../../../src/extractors/ods.ts';
import { odtExtractor } from '../../../src/extractors/odt.ts';
import { makeOdf } from '../../helpers/make-office.ts';
import { runExtractorContract } from './contract.ts';
import { fixture, fixtureText, trigramRecall } from './fixtures.ts';
import { allText, chunksOf, codeOf, run } from './office-helpers.ts';

const ODS = 'application/vnd.oasis.opendocument.spreadsheet';
const ODP = 'application/vnd.oasis.opendocument.presentation';
const ODT = 'application/vnd.oasis.opendocument.text';
const sheet = (name: string, rows: string) => `<table:table table:name="${name}">${rows}</table:table>`;
const cells = (...texts: string[]) =>
  texts.map((t) => `<table:table-cell><text:p>${t}</text:p></table:table-cell>`).join('');

const sampleOds = makeOdf(
  ODS,
  `<office:spreadsheet>${sheet(
    'Prices',
    `<table:table-row>${cells('Fruit', 'Price')}</table:table-row><table:table-row>${cells('Apple', '1.20')}</table:table-row>` +
      `<table:table-row><table:table-cell table:number-rows-spanned="2"><text:p>Pear</text:p></table:table-cell>${cells('0.90')}</table:table-row>` +
      `<table:table-row><table:covered-table-cell/>${cells('0.95')}</table:table-row>` +
      '<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>',
  )}${sheet('Notes', `<table:table-row>${cells('Seasonal', 'yes')}</table:table-row>`)}</office:spreadsheet>`,
);
const sampleOdp = makeOdf(
  ODP,
  '<office:presentation><draw:page draw:name="p1"><draw:frame presentation:class="title"><draw:text-box><text:p>Launch plan</text:p></draw:text-box></draw:frame>' +
    '<draw:frame presentation:class="outline"><draw:text-box><text:list><text:list-item><text:p>Build</text:p></text:list-item><text:list-item><text:p>Ship</text:p></text:list-item></text:list></draw:text-box></draw:frame>' +
    '<presentation:notes><draw:frame><draw:text-box><text:p>Mention the budget.</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>' +
    '<draw:page draw:name="p2"><draw:frame presentation:class="title"><draw:text-box><text:p>Questions</text:p></draw:text-box></draw:frame></draw:page></office:presentation>',
);

runExtractorContract(odtExtractor, { sample: fixture('odt/uns-fake.odt'), mime: ODT });
runExtractorContract(odsExtractor, { sample: sampleOds, mime: ODS });
runExtractorContract(odpExtractor, { sample: sampleOdp, mime: ODP });

describe('odt extractor', () => {
  it('reads the docling document with headings, numbered lists and equations', async () => {
    const doc = await run(odtExtractor, fixture('odt/docling-text_document_01.odt'));
    expect(
      trigramRecall(allText(doc), fixtureText('odt/docling-text_document_01.odt.expected.md')),
    ).toBeGreaterThan(0.95);
    expect(doc.sections.map((s) => s.headingPath)).toContainEqual([
      'heading level 1.0',
      'Heading level 2: A',
    ]);
    expect(allText(doc)).toContain('1. numbered list 1\n2. numbered list 2\n\n  - bullet list 2.1');
  });

  it('keeps footnotes apart, marked by their citation', async () => {
    const doc = await run(
      odtExtractor,
      makeOdf(
        ODT,
        '<office:text><text:h text:outline-level="1">Intro</text:h><text:p>Claim<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>Source: a survey.</text:p></text:note-body></text:note> made.</text:p></office:text>',
      ),
    );
    expect(doc.sections).toEqual([
      { text: 'Intro\n\nClaim[1] made.', headingPath: ['Intro'] },
      { text: '[1] Source: a survey.', headingPath: ['Notes'] },
    ]);
    expect(doc.metadata).toMatchObject({ title: 'Test document', author: 'Ada Author', language: 'en-GB' });
  });

  it('reads the table of the unstructured sample', async () => {
    expect(allText(await run(odtExtractor, fixture('odt/uns-fake.odt')))).toContain(
      'Header row | Mon | Wed | Fri',
    );
  });

  it('refuses an entity declaration in content.xml', async () => {
    const evil = makeOdf(
      ODT,
      '<office:text><text:p>&lol;</text:p></office:text>',
      'x',
      '<!DOCTYPE x [<!ENTITY lol "lol">]>',
    );
    await expect(run(odtExtractor, evil)).rejects.toMatchObject({
      code: 'CORRUPT_FILE',
      message: expect.stringContaining('DTD'),
    });
  });
});

describe('ods extractor', async () => {
  const doc = await run(odsExtractor, sampleOds);

  it('gives each sheet its name as heading and repeats spanned cells', () => {
    expect(doc.sections).toEqual([
      {
        text: 'Fruit | Price\nApple | 1.20\nPear | 0.90\nPear | 0.95',
        headingPath: ['Prices'],
        rows: { start: 1, end: 4 },
      },
      { text: 'Seasonal | yes', headingPath: ['Notes'], rows: { start: 1, end: 1 } },
    ]);
    expect(doc.metadata).toMatchObject({ sheets: ['Prices', 'Notes'] });
  });

  it('puts sheet names and row ranges in chunk metadata', async () => {
    const chunks = await chunksOf(doc);
    expect(chunks.map((c) => [c.metadata.headingPath, c.metadata.rowStart, c.metadata.rowEnd])).toEqual([
      [['Prices'], 1, 4],
      [['Notes'], 1, 1],
    ]);
  });

  it('fails a sheet whose repeated rows hold millions of cells with TOO_LARGE', async () => {
    const huge = makeOdf(
      ODS,
      `<office:spreadsheet>${sheet('Big', `<table:table-row table:number-rows-repeated="10000">${cells(...Array.from({ length: 300 }, () => 'x'))}</table:table-row>`.repeat(1))}</office:spreadsheet>`,
    );
    expect(await codeOf(run(odsExtractor, huge))).toBe('TOO_LARGE');
  });
});

describe('odp extractor', async () => {
  const doc = await run(odpExtractor, sampleOdp);

  it('gives one section per slide with its number as page and notes marked', () => {
    expect(doc.sections).toEqual([
      { text: 'Launch plan\n\n- Build\n- Ship', headingPath: ['Launch plan'], page: 1 },
      { text: 'Mention the budget.', headingPath: ['Launch plan', 'Speaker notes'], page: 1 },
      { text: 'Questions', headingPath: ['Questions'], page: 2 },
    ]);
  });

  it('puts slide numbers in chunk metadata', async () => {
    // The notes join their slide's chunk; slide 2 is a title alone, and a heading alone is never a chunk.
    expect((await chunksOf(doc)).map((c) => [c.metadata.pageStart, c.metadata.pageEnd])).toEqual([[1, 1]]);
  });
});
