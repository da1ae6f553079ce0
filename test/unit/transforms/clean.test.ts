import { describe, expect, it } from 'vitest';
import { cleanDocument, cleanText } from '../../../src/transforms/clean.ts';

describe('cleanText', () => {
  it('normalises line endings, spaces and blank lines', () => {
    expect(cleanText('a\r\nb\rc\u2028d')).toBe('a\nb\nc\nd');
    expect(cleanText('one\u00A0two\u2009three\u3000four')).toBe('one two three four');
    expect(cleanText('a  \t b   \nc\t\n\n\n\n\nd  ')).toBe('a b\nc\n\nd');
    expect(cleanText('  x\n    indented code')).toBe('x\n    indented code');
  });

  it('composes to NFC and expands ligatures', () => {
    expect(cleanText('Cafe\u0301')).toBe('Café');
    expect(cleanText('\uFB01nd the \uFB02ow, e\uFB03cient')).toBe('find the flow, efficient');
  });

  it('removes soft hyphens, zero-width spaces and control characters', () => {
    expect(cleanText('hy\u00ADphen\u200Bated\uFEFF')).toBe('hyphenated');
    expect(cleanText('a\u0000b\u0007c\u001Bd\u007Fe\u0085f\u009Bg\tz')).toBe('abcde\nfg\tz');
  });

  it('keeps ZWNJ/ZWJ inside Persian, Indic and emoji sequences, drops stray ones', () => {
    const persian = 'می\u200Cخواهم';
    const hindi = 'क्\u200Dष';
    const family = '👨\u200D👩\u200D👧';
    expect(cleanText(persian)).toBe(persian);
    expect(cleanText(hindi)).toBe(hindi);
    expect(cleanText(family)).toBe(family);
    expect(cleanText('word \u200D next\u200C')).toBe('word next');
  });

  // Throughput belongs to `npm run bench`, never to a timed test: this proves a large text cleans whole.
  it('cleans an 11 MB text', () => {
    const text = 'Lorem ipsum\u00A0dolor  sit amet,\r\n\ufb01nal\u00ADly.\n\n\n\n'.repeat(250_000); // ~11 MB
    const out = cleanText(text);
    expect(out.length).toBeGreaterThan(1_000_000);
    expect(out.startsWith('Lorem ipsum dolor sit amet,\nfinally.')).toBe(true);
  });
});

describe('cleanDocument', () => {
  it('cleans sections and drops empty ones', () => {
    const doc = cleanDocument({
      title: ' My\n Title ',
      metadata: { a: 1 },
      sections: [{ text: ' \u200B \n' }, { text: 'x\r\ny', headingPath: ['H'], page: 2 }],
    });
    expect(doc).toEqual({
      title: 'My Title',
      metadata: { a: 1 },
      sections: [{ text: 'x\ny', headingPath: ['H'], page: 2 }],
    });
  });

  it('throws NO_TEXT when nothing is left', () => {
    expect(() => cleanDocument({ metadata: {}, sections: [{ text: '\u00AD \n\t' }] })).toThrow(
      expect.objectContaining({ code: 'NO_TEXT' }),
    );
  });
});
