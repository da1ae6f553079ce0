import { describe, expect, it } from 'vitest';
import { textExtractor } from '../../../src/extractors/text.ts';
import { DEFAULT_LIMITS } from '../../../src/extractors/types.ts';
import { runExtractorContract } from './contract.ts';
import { fixture, fixtureText } from './fixtures.ts';

const extract = (path: string) =>
  textExtractor.extract({ bytes: fixture(path), mime: 'text/plain', limits: DEFAULT_LIMITS });

runExtractorContract(textExtractor, { sample: fixture('txt/tika-russian.cp866.txt'), mime: 'text/plain' });

describe('text extractor', () => {
  it('decodes IBM866 and records the charset', async () => {
    const doc = await extract('txt/tika-russian.cp866.txt');
    expect(doc.metadata.charset).toBe('ibm866');
    expect(doc.sections[0]?.text).toBe(fixtureText('txt/tika-russian.cp866.txt.expected.txt'));
  });

  it('keeps every script of the UDHR', async () => {
    const doc = await extract('txt/uns-UDHR_first_article_all.txt');
    const text = doc.sections.map((s) => s.text).join('\n');
    expect(text).toContain('All human beings are born free and equal in dignity and rights.');
    for (const script of ['Arabic', 'Cyrillic', 'Han', 'Devanagari', 'Greek', 'Hebrew', 'Thai']) {
      expect(new RegExp(`\\p{Script=${script}}`, 'u').test(text), script).toBe(true);
    }
  });

  it('throws NO_TEXT for the 0-byte corpus file and for whitespace', async () => {
    await expect(extract('txt/uns-empty.txt')).rejects.toMatchObject({ code: 'NO_TEXT' });
    const blank = new TextEncoder().encode(' \n\t\n ');
    await expect(
      textExtractor.extract({ bytes: blank, mime: 'text/plain', limits: DEFAULT_LIMITS }),
    ).rejects.toMatchObject({ code: 'NO_TEXT' });
  });

  it('maps a timeout signal to TIMEOUT', async () => {
    const signal = AbortSignal.timeout(0);
    await new Promise((r) => setTimeout(r, 5));
    await expect(
      textExtractor.extract({
        bytes: fixture('txt/tika-multi-language.txt'),
        mime: 'text/plain',
        limits: DEFAULT_LIMITS,
        signal,
      }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
