import { describe, expect, it } from 'vitest';
import { declaredCharset, decodeText, guessLegacyCharset } from '../../../src/extractors/charset.ts';
import { fixture, fixtureText } from './fixtures.ts';

/** Encode with a single-byte code page by inverting TextDecoder's table. */
function encodeLegacy(text: string, charset: string): Uint8Array {
  const decoder = new TextDecoder(charset);
  const table = new Map<string, number>();
  for (let b = 255; b >= 0; b--) table.set(decoder.decode(new Uint8Array([b])), b);
  return new Uint8Array(
    [...text].map((ch) => {
      const b = table.get(ch);
      if (b === undefined) throw new Error(`${ch} not in ${charset}`);
      return b;
    }),
  );
}

const RUSSIAN =
  'Однажды, в студеную зимнюю пору, Я из лесу вышел; был сильный мороз. Гляжу, поднимается медленно в гору';
const ARABIC = 'الاتحاد الجزائري وقتها عن أسفه لهذا الموقف غير المقبول والفردي وغير الرياضي';
const WESTERN = [
  "Die schöne Frau hat Kaffee gegessen. L'été était très chaud à Genève.",
  'El niño comió paella con ñoquis. ¡Qué rico! Preis: 15,50 €',
  'Größe: ÄÖÜ, Straße, über — «déjà vu»',
];

describe('decodeText on corpus files', () => {
  it('decodes IBM866 Russian exactly', () => {
    const r = decodeText(fixture('txt/tika-russian.cp866.txt'));
    expect(r.charset).toBe('ibm866');
    expect(r.text).toBe(fixtureText('txt/tika-russian.cp866.txt.expected.txt'));
  });

  it('decodes ISO-8859-1 multilingual text exactly', () => {
    const r = decodeText(fixture('txt/tika-multi-language.txt'));
    expect(r.charset).toBe('windows-1252'); // WHATWG name for the ISO-8859-1 label
    expect(r.text).toBe(fixtureText('txt/tika-multi-language.txt.expected.txt'));
  });

  it('decodes Latin-1 Markdown umlauts', () => {
    const r = decodeText(fixture('md/uns-umlauts-non-utf8.md'));
    expect(r.text.trim()).toBe(fixtureText('md/uns-umlauts-non-utf8.md.expected.md').trim());
  });

  it('decodes UTF-16BE without a BOM', () => {
    const r = decodeText(fixture('txt/uns-fake-text-utf-16-be.txt'));
    expect(r.charset).toBe('utf-16be');
    expect(r.text).toContain('This is a test document to use for unit tests.');
    expect(r.text).not.toContain('\0');
  });

  it('honours a declared iso-8859-6 charset for Arabic HTML', () => {
    const bytes = fixture('html/tika-testHTMLNoisyMetaEncoding_1.html');
    expect(declaredCharset(bytes)).toBe('iso-8859-6');
    const r = decodeText(bytes, declaredCharset(bytes));
    expect(r.text).toContain('أعرب');
  });

  it('detects windows-1252 HTML with the euro sign', () => {
    const r = decodeText(fixture('html/uns-fake-html-cp1252.html'));
    expect(r.charset).toBe('windows-1252');
    expect(r.text).toContain('Die schöne Frau');
    expect(r.text).toContain('15,50 €');
    expect(r.text).toContain("L'été était très chaud");
  });

  it('keeps the UTF-8 UDHR intact', () => {
    const r = decodeText(fixture('txt/uns-UDHR_first_article_all.txt'));
    expect(r.charset).toBe('utf-8');
    expect(r.text).not.toContain('\uFFFD');
  });
});

describe('decodeText on synthetic input', () => {
  it.each(['windows-1251', 'koi8-r', 'ibm866'])('detects Russian in %s', (cs) => {
    const r = decodeText(encodeLegacy(RUSSIAN, cs));
    expect(r.charset).toBe(cs);
    expect(r.text).toBe(RUSSIAN);
  });

  it('detects Arabic in windows-1256', () => {
    expect(decodeText(encodeLegacy(ARABIC, 'windows-1256')).text).toBe(ARABIC);
  });

  it.each(WESTERN)('detects Western text as windows-1252: %s', (text) => {
    expect(guessLegacyCharset(encodeLegacy(text, 'windows-1252'))).toBe('windows-1252');
  });

  it('honours BOMs', () => {
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]))).toEqual({
      text: 'hi',
      charset: 'utf-8',
    });
    expect(decodeText(new Uint8Array([0xff, 0xfe, 0x68, 0, 0x69, 0]))).toEqual({
      text: 'hi',
      charset: 'utf-16le',
    });
    expect(decodeText(new Uint8Array([0xfe, 0xff, 0, 0x68, 0, 0x69]))).toEqual({
      text: 'hi',
      charset: 'utf-16be',
    });
  });

  it('prefers valid UTF-8 over a wrong declared charset', () => {
    const bytes = new TextEncoder().encode('Grüße aus Köln');
    expect(decodeText(bytes, 'windows-1251').text).toBe('Grüße aus Köln');
  });

  it('ignores a declared charset that turns Russian into Latin mojibake', () => {
    const r = decodeText(encodeLegacy(RUSSIAN, 'windows-1251'), 'windows-1252');
    expect(r.text).toBe(RUSSIAN);
  });
});
