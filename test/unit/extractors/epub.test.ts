// EPUB extractor: spine order, chapter titles leading heading paths, book metadata,
// corpus books, and hostile packages (entities, missing container).
import { describe, expect, it } from 'vitest';
import { epubExtractor } from '../../../src/extractors/epub.ts';
import { writeZip } from '../../helpers/make-docx.ts';
import { makeEpub } from '../../helpers/make-office.ts';
import { runExtractorContract } from './contract.ts';
import { fixture, fixtureText, trigramRecall } from './fixtures.ts';
import { allText, chunksOf, codeOf, run } from './office-helpers.ts';

runExtractorContract(epubExtractor, {
  sample: fixture('epub/uns-eng_spa_mult.epub'),
  mime: 'application/epub+zip',
});

describe('epub extractor: generated book', async () => {
  const book = makeEpub([
    {
      title: 'Chapter One: Arrival',
      body: '<h1>Chapter One: Arrival</h1><p>The ship docked at dawn.</p><h2>The harbour</h2><p>Gulls everywhere.</p>',
    },
    { title: 'Chapter Two', body: '<p>No heading in the file, only prose about the market.</p>' },
    { title: 'Cover', body: '<img src="cover.jpg" alt=""/>' },
  ]);
  const doc = await run(epubExtractor, book);

  it('reads chapters in spine order with the chapter title leading the heading path', () => {
    expect(doc.sections.map((s) => s.headingPath)).toEqual([
      ['Chapter One: Arrival'],
      ['Chapter One: Arrival', 'The harbour'],
      ['Chapter Two'],
    ]);
  });

  it('keeps the book metadata', () => {
    expect(doc.title).toBe('A Book');
    expect(doc.metadata).toMatchObject({
      title: 'A Book',
      author: 'Ann Writer',
      language: 'en',
      chapters: 2,
    });
  });

  it('puts chapter titles in chunk metadata', async () => {
    const chunks = await chunksOf(doc);
    // The short sub-section joins its chapter (small sections merge within one outline branch).
    expect(chunks.map((c) => c.metadata.headingPath[0])).toEqual(['Chapter One: Arrival', 'Chapter Two']);
  });
});

describe('epub extractor: corpus books', () => {
  it('reads the Debian history (EPUB 2, NCX table of contents) nearly word for word', async () => {
    const doc = await run(epubExtractor, fixture('epub/deb-project-history.en.epub'));
    expect(
      trigramRecall(allText(doc), fixtureText('epub/deb-project-history.en.epub.expected.txt')),
    ).toBeGreaterThan(0.97);
    expect(doc.metadata).toMatchObject({ title: 'A Brief History of Debian', language: 'en' });
    expect(doc.sections.some((s) => s.headingPath?.[0]?.includes('Leadership'))).toBe(true);
  });

  it('reads the Standard Ebooks poetry book (EPUB 3 nav)', async () => {
    const doc = await run(epubExtractor, fixture('epub/docling-epub_purvis_poetry.epub'));
    expect(
      trigramRecall(allText(doc), fixtureText('epub/docling-epub_purvis_poetry.epub.expected.md')),
    ).toBeGreaterThan(0.97);
    expect(doc.metadata).toMatchObject({
      title: 'Poetry',
      author: 'Sarah Louisa Forten Purvis',
      language: 'en-US',
    });
  });
});

describe('epub extractor: hostile packages', () => {
  it('refuses a chapter that declares entities', async () => {
    const book = makeEpub([{ title: 'x', body: '<p>x</p>' }]);
    const evil = writeZip([
      { name: 'mimetype', data: Buffer.from('application/epub+zip') },
      {
        name: 'META-INF/container.xml',
        data: Buffer.from('<container><rootfiles><rootfile full-path="c.opf"/></rootfiles></container>'),
      },
      {
        name: 'c.opf',
        data: Buffer.from(
          '<package><manifest><item id="a" href="a.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="a"/></spine></package>',
        ),
      },
      {
        name: 'a.xhtml',
        data: Buffer.from(
          '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY lol "lol">]><html><body><p>&lol;</p></body></html>',
        ),
      },
    ]);
    expect((await run(epubExtractor, book)).sections.length).toBe(1);
    expect(await codeOf(run(epubExtractor, evil))).toBe('CORRUPT_FILE');
  });

  it('fails a ZIP without META-INF/container.xml as CORRUPT_FILE', async () => {
    expect(
      await codeOf(
        run(epubExtractor, writeZip([{ name: 'mimetype', data: Buffer.from('application/epub+zip') }])),
      ),
    ).toBe('CORRUPT_FILE');
  });
});
