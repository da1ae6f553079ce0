// PPTX extractor: slides as sections with their number as page, titles as headings,
// reading order, tables with merges, notes marked, hidden slides skipped; corpus decks.
import { describe, expect, it } from 'vitest';
import { pptxExtractor } from '../../../src/extractors/pptx.ts';
import { makePptx } from '../../helpers/make-office.ts';
import { runExtractorContract } from './contract.ts';
import { fixture } from './fixtures.ts';
import { allText, chunksOf, codeOf, run } from './office-helpers.ts';

runExtractorContract(pptxExtractor, {
  sample: fixture('pptx/docling-powerpoint_sample.pptx'),
  mime: pptxExtractor.mimeTypes[0]!,
});

describe('pptx extractor: generated deck', async () => {
  const deck = makePptx([
    { title: 'Welcome', body: ['First point', 'Second point'], notes: 'Say hello slowly.' },
    { title: 'Secret', body: ['Hidden draft'], hidden: true },
    {
      title: 'Numbers',
      table: [
        ['Region', 'Q1', 'Q2'],
        ['North', '10', '12'],
        ['^', '11', '<'],
      ],
    },
  ]);
  const doc = await run(pptxExtractor, deck);

  it('gives one section per visible slide, numbered by its place in the deck', () => {
    const slides = doc.sections.filter((s) => s.headingPath?.length === 1);
    expect(slides.map((s) => [s.page, s.headingPath])).toEqual([
      [1, ['Welcome']],
      [3, ['Numbers']],
    ]);
    expect(slides[0]!.text).toBe('Welcome\n\n- First point\n- Second point');
  });

  it('keeps speaker notes as their own section, marked in the heading path on the slide page', () => {
    const notes = doc.sections.find((s) => s.headingPath?.at(-1) === 'Speaker notes');
    expect(notes).toEqual({
      text: 'Say hello slowly.',
      headingPath: ['Welcome', 'Speaker notes'],
      page: 1,
    });
  });

  it('skips hidden slides and lists them in the metadata', () => {
    expect(allText(doc)).not.toContain('Hidden draft');
    expect(doc.metadata).toMatchObject({ slideCount: 3, hiddenSlides: [2] });
  });

  it('renders tables as rows with merged cells repeated', () => {
    expect(doc.sections.find((s) => s.page === 3)!.text).toContain(
      'Region | Q1 | Q2\nNorth | 10 | 12\nNorth | 11 | 11',
    );
  });

  it('puts slide numbers and titles in chunk metadata', async () => {
    const chunks = await chunksOf(doc);
    // A short slide's notes join the slide's chunk (small sections merge within one outline branch).
    expect(chunks.map((c) => [c.metadata.pageStart, c.metadata.headingPath[0]])).toEqual([
      [1, 'Welcome'],
      [3, 'Numbers'],
    ]);
  });
});

describe('pptx extractor: corpus decks', () => {
  it('reads the docling sample in reading order with its merged table', async () => {
    const doc = await run(pptxExtractor, fixture('pptx/docling-powerpoint_sample.pptx'));
    const text = allText(doc);
    expect(text).toContain(' | Class1 | Class1 | Class1 | Class2 | Class2 | Class2');
    expect(text.indexOf('A rectangle shape')).toBeLessThan(text.indexOf('Let’s introduce'));
    expect(text).toMatch(/1\. List item4\n2\. List item5\n3\. List item6/);
    expect(doc.sections.map((s) => s.page)).toEqual([1, 2, 2, 3, 3]);
  });

  it('walks nested group shapes', async () => {
    const text = allText(await run(pptxExtractor, fixture('pptx/uns-group-shapes-nested.pptx')));
    for (const letter of 'ABCDEFGHIJ') expect(text.split(/\s+/)).toContain(letter);
  });

  it('keeps nested bullets of the sample presentation', async () => {
    const doc = await run(pptxExtractor, fixture('pptx/uns-sample-presentation.pptx'));
    expect(doc.sections[1]!.text).toContain('  - With a sub-bullet');
    expect(doc.sections.at(-1)!.text).toContain('Table | A | B | C');
  });
});

describe('pptx extractor: hostile and broken files', () => {
  it('refuses a slide that declares entities', async () => {
    const bomb = makePptx([{ title: 'x' }], {
      'ppt/slides/slide1.xml':
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><p:sld xmlns:p="p">&a;</p:sld>',
    });
    expect(await codeOf(run(pptxExtractor, bomb))).toBe('CORRUPT_FILE');
  });

  it('refuses elements nested a thousand deep', async () => {
    const deep = `<?xml version="1.0"?><p:sld xmlns:p="p">${'<p:grpSp>'.repeat(1000)}${'</p:grpSp>'.repeat(1000)}</p:sld>`;
    expect(
      await codeOf(run(pptxExtractor, makePptx([{ title: 'x' }], { 'ppt/slides/slide1.xml': deep }))),
    ).toBe('CORRUPT_FILE');
  });

  it('says PPTX (and what to do) for a password-protected deck', async () => {
    const ole = new Uint8Array(4096);
    ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    ole.set(Buffer.from('EncryptedPackage', 'utf16le'), 1024);
    await expect(run(pptxExtractor, ole)).rejects.toMatchObject({
      code: 'ENCRYPTED',
      message: expect.stringMatching(/^PPTX .*remove the password/),
    });
  });

  it('fails a ZIP without a presentation part as CORRUPT_FILE', async () => {
    expect(await codeOf(run(pptxExtractor, fixture('xlsx/uns-stanley-cups.xlsx')))).toBe('CORRUPT_FILE');
  });
});
