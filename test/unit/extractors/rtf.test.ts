// RTF extractor: code-page and Unicode escapes, headings from outline levels and
// heading styles, table cells kept apart, skipped destinations, hostile nesting.
import { describe, expect, it } from 'vitest';
import { rtfExtractor } from '../../../src/extractors/rtf.ts';
import { runExtractorContract } from './contract.ts';
import { fixture } from './fixtures.ts';
import { allText, codeOf, run } from './office-helpers.ts';

const rtf = (s: string) => run(rtfExtractor, new Uint8Array(Buffer.from(s, 'latin1')));

runExtractorContract(rtfExtractor, { sample: fixture('rtf/uns-fake-doc.rtf'), mime: 'application/rtf' });

describe('rtf extractor', () => {
  it('turns outline-level paragraphs into headings and tables into rows', async () => {
    const doc = await run(rtfExtractor, fixture('rtf/uns-fake-doc.rtf'));
    expect(doc.sections[0]).toEqual({ text: 'My First Heading', headingPath: ['My First Heading'] });
    expect(allText(doc)).toContain('Column 1 | Column 2\nRow 1, Cell 1 | Row 1, Cell 2');
  });

  it("keeps table cells apart and decodes \\'hh escapes (Tika testTableCellSeparation)", async () => {
    const text = allText(await run(rtfExtractor, fixture('rtf/tika-testRTFTableCellSeparation.rtf')));
    expect(text.replace(/ \| /g, ' ').replace(/\n/g, ' ')).toContain('a b c d ä ë ö ü');
  });

  it('decodes Japanese text in Shift_JIS font escapes', async () => {
    const text = allText(await run(rtfExtractor, fixture('rtf/tika-testRTFJapanese.rtf')));
    expect(text.length).toBeGreaterThan(500);
    expect(text).toContain('ゾルゲと尾崎、淡々と最期');
    expect(text).toContain('古書店で処刑記録見つかる');
  });

  it('uses heading styles from the style sheet and \\u escapes, and skips font tables and pictures', async () => {
    const doc = await rtf(
      '{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}{\\stylesheet{\\s1 heading 1;}{\\s0 Normal;}}' +
        '{\\pict\\pngblip 89504e47}\\pard\\s1 Overview\\par\\pard\\s0 Caf\\u233?s and na\\u239?ve tea\\par}',
    );
    expect(doc.sections).toEqual([
      { text: 'Overview', headingPath: ['Overview'] },
      { text: 'Cafés and naïve tea', headingPath: ['Overview'] },
    ]);
  });

  it('reads the corrupt list-override file without failing', async () => {
    expect(allText(await run(rtfExtractor, fixture('rtf/tika-testRTFCorruptListOverride.rtf')))).toContain(
      'Apples are fun!',
    );
  });

  it('fails groups nested thousands deep with CORRUPT_FILE', async () => {
    expect(await codeOf(rtf(`{\\rtf1 ${'{'.repeat(5000)}x${'}'.repeat(5000)}}`))).toBe('CORRUPT_FILE');
  });

  it('fails a file that is not RTF with CORRUPT_FILE', async () => {
    expect(await codeOf(rtf('just words'))).toBe('CORRUPT_FILE');
  });
});
