// The quality gate's judgement on real text (no false positives on the fixtures'
// scripts) and on the kinds of garbage it must catch, one signal at a time.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pickExtractor } from '../../../src/extractors/index.ts';
import { sniffType } from '../../../src/extractors/sniff.ts';
import { DEFAULT_LIMITS, type ExtractedDocument } from '../../../src/extractors/types.ts';
import { assessQuality, describeLowQuality, enforceQuality } from '../../../src/transforms/quality.ts';
import { fixture, fixtureText } from '../extractors/fixtures.ts';

const doc = (text: string): ExtractedDocument => ({ metadata: {}, sections: [{ text }] });
/** Deterministic pseudo-random bytes (no flaky seeds). */
const noise = (n: number, map: (b: number, i: number) => number): Uint8Array =>
  new Uint8Array(n).map((_, i) => map(((i + 1) * 2654435761) >>> 24, i));

describe('assessQuality', () => {
  it('passes prose in many scripts (UDHR article 1 in hundreds of languages)', () => {
    const q = assessQuality(doc(fixtureText('txt/uns-UDHR_first_article_all.txt')));
    expect(q.low).toBe(false);
    expect(q.score).toBeGreaterThan(0.9);
  });

  it('passes tables of numbers, code identifiers and emoji', () => {
    const table = Array.from(
      { length: 200 },
      (_, i) => `${i} | ${i * 3.5} | ${(i * 7) % 13} | €${i}.00`,
    ).join('\n');
    expect(assessQuality(doc(table)).low).toBe(false);
    const code =
      'const getElementById = (id) => document.querySelector(id + "#"); // 50% off // 🎉 C++ & x<=y\n'.repeat(
        50,
      );
    expect(assessQuality(doc(code)).low).toBe(false);
  });

  it('records the dominant script', () => {
    expect(assessQuality(doc('Все люди рождаются свободными и равными.')).script).toBe('Cyrillic');
    expect(assessQuality(doc('人人生而自由，在尊严和权利上一律平等。')).script).toBe('Han');
  });

  it('fails replacement characters and control bytes', () => {
    const text = 'Some words \uFFFD\uFFFD and \x01\x02 more '.repeat(100);
    const q = assessQuality(doc(text));
    expect(q.low).toBe(true);
    expect(q.reasons.join()).toMatch(/replacement, control/);
  });

  it('fails random high bytes decoded through a legacy code page', () => {
    const text = new TextDecoder('windows-1251').decode(
      noise(20_000, (b, i) => (i % 7 === 0 ? 0x20 : b | 0x80)),
    );
    const q = assessQuality(doc(text));
    expect(q.low).toBe(true);
    expect(q.reasons.join()).toMatch(/change case mid-word|mix scripts/);
  });

  it('fails UTF-8 read as Latin-1 (mojibake mixes symbols into words)', () => {
    const utf8 = new TextEncoder().encode(
      'Все люди рождаются свободными и равными в своем достоинстве. '.repeat(40),
    );
    const q = assessQuality(doc(new TextDecoder('windows-1252').decode(utf8)));
    expect(q.low).toBe(true);
  });

  it('fails base64 blocks', () => {
    const b64 = Buffer.from(noise(12_000, (b) => b))
      .toString('base64')
      .replace(/(.{76})/g, '$1\n');
    const q = assessQuality(doc(`Hello,\n\n${b64}`));
    expect(q.low).toBe(true);
    expect(q.reasons.join()).toMatch(/base64/);
  });

  it('counts a base64 run of 60 or more with its padding, and not shorter runs or plain words', () => {
    const run = (n: number) => 'Ab3+/'.repeat(Math.ceil(n / 5)).slice(0, n);
    const share = (text: string) => {
      const q = assessQuality(doc(text));
      const m = /(\d+(?:\.\d)?)% of the text is base64/.exec(q.reasons.join());
      return m ? Number(m[1]) : 0;
    };
    // 10 lines of a 60-character run, "==" and 16 more characters: 62 / 78 of the text.
    expect(Math.abs(share(`${run(60)}== word word word\n`.repeat(10)) - (100 * 62) / 78)).toBeLessThan(1);
    expect(share(`${run(59)} word word word word\n`.repeat(10))).toBe(0);
    expect(share(`${'abcdefghij'.repeat(10)} ${'ABCDEFGHIJ0123456789'.repeat(4)}\n`.repeat(10))).toBe(0);
  });
});

describe('enforceQuality', () => {
  const low = { quality: { score: 0.1, low: true, reasons: ['80% of words mix scripts'] } };

  it('throws LOW_QUALITY naming the reasons and the way out', () => {
    expect(() => enforceQuality(low, false)).toThrow(
      expect.objectContaining({
        code: 'LOW_QUALITY',
        message: expect.stringMatching(/mix scripts.*--accept-low-quality/),
      }),
    );
  });

  it('passes accepted, clean and pre-gate extractions', () => {
    expect(() => enforceQuality(low, true)).not.toThrow();
    expect(() => enforceQuality({ quality: { score: 0.9, low: false, reasons: [] } }, false)).not.toThrow();
    expect(() => enforceQuality({}, false)).not.toThrow();
  });

  it('describes a low score without reasons too', () => {
    expect(describeLowQuality({ score: 0.2, reasons: [] })).toMatch(/does not read like writing/);
  });
});

describe('no false positives on the real fixtures', () => {
  const FILES = [
    ...['txt', 'md', 'html'].flatMap((dir) =>
      readdirSync(fileURLToPath(new URL(`../../fixtures/${dir}/`, import.meta.url)))
        .filter((f) => !f.includes('.expected.') && f !== 'uns-empty.txt')
        .map((f) => `${dir}/${f}`),
    ),
    'pdf/docling-multi_page.pdf',
    'pdf/uns-multi-column-2p.pdf',
    'pdf/docling-right_to_left_01.pdf',
    'pdf/pdfjs-ArabicCIDTrueType.pdf',
    'eml/uns-fake-email.eml',
    'eml/uns-email-no-utf8-2014-03-17.111517.eml',
  ];

  it.each(FILES)('%s passes the gate', async (path) => {
    const bytes = fixture(path);
    const mime = await sniffType(bytes, path);
    const doc = await pickExtractor(mime).extract({ bytes, mime, filename: path, limits: DEFAULT_LIMITS });
    const q = assessQuality(doc);
    expect(q.low, `${path}: ${q.score} ${q.reasons.join('; ')}`).toBe(false);
  });
});
