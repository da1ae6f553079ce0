// Legacy encodings decode to the text that was written: each sample is the UDHR's
// first article encoded with iconv-lite (EBCDIC with the inverse of our own table,
// since iconv-lite has no EBCDIC), then decoded by decodeText with no hint.
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/extractors/charset.ts';
import { decodeEbcdic, type EbcdicCharset } from '../../../src/extractors/ebcdic.ts';

const JAPANESE =
  'すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。';
const CHINESE_SIMPLIFIED =
  '人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。';
const CHINESE_TRADITIONAL =
  '人人生而自由，在尊嚴和權利上一律平等。他們賦有理性和良心，並應以兄弟關係的精神相對待。';
const KOREAN =
  '모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다.';
const RUSSIAN =
  'Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и совестью и должны поступать в отношении друг друга в духе братства.';
const CZECH =
  'Všichni lidé rodí se svobodní a sobě rovní co do důstojnosti a práv. Jsou nadáni rozumem a svědomím a mají spolu jednat v duchu bratrství.';
const FRENCH =
  'Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.';
const GREEK =
  'Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια και τα δικαιώματα. Είναι προικισμένοι με λογική και συνείδηση, και οφείλουν να συμπεριφέρονται μεταξύ τους με πνεύμα αδελφοσύνης.';
const TURKISH =
  'Bütün insanlar hür, haysiyet ve haklar bakımından eşit doğarlar. Akıl ve vicdana sahiptirler ve birbirlerine karşı kardeşlik zihniyeti ile hareket etmelidirler.';
const HEBREW =
  'כל בני האדם נולדו בני חורין ושווים בערכם ובזכויותיהם. כולם חוננו בתבונה ובמצפון, לפיכך חובה עליהם לנהוג איש ברעהו ברוח של אחווה.';
const ARABIC =
  'يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق. وقد وهبوا عقلاً وضميرًا وعليهم أن يعامل بعضهم بعضًا بروح الإخاء.';
const LITHUANIAN =
  'Visi žmonės gimsta laisvi ir lygūs savo orumu ir teisėmis. Jiems suteiktas protas ir sąžinė ir jie turi elgtis vienas kito atžvilgiu kaip broliai.';
const ENGLISH =
  'All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood.';

/** [iconv-lite encoding, sample, WHATWG names decodeText may report]. */
const CASES: [string, string, string[]][] = [
  ['shift_jis', JAPANESE, ['shift_jis']],
  ['euc-jp', JAPANESE, ['euc-jp']],
  ['gbk', CHINESE_SIMPLIFIED, ['gbk', 'gb18030']],
  ['gb18030', CHINESE_SIMPLIFIED, ['gbk', 'gb18030']],
  ['big5', CHINESE_TRADITIONAL, ['big5']],
  ['euc-kr', KOREAN, ['euc-kr']],
  ['koi8-r', RUSSIAN, ['koi8-r']],
  ['windows-1250', CZECH, ['windows-1250', 'iso-8859-2']],
  ['windows-1251', RUSSIAN, ['windows-1251']],
  ['windows-1252', FRENCH, ['windows-1252']],
  ['windows-1253', GREEK, ['windows-1253', 'iso-8859-7']],
  ['windows-1254', TURKISH, ['windows-1254']],
  ['windows-1255', HEBREW, ['windows-1255', 'iso-8859-8']],
  ['windows-1256', ARABIC, ['windows-1256']],
  ['windows-1257', LITHUANIAN, ['windows-1257', 'iso-8859-13']],
];

/** A paragraph repeated into a realistic file (detectors need more than one sentence). */
const file = (text: string): string => `${text}\n\n${text}\n${text}\n`;

function encodeEbcdic(text: string, charset: EbcdicCharset): Uint8Array {
  const table = new Map<string, number>();
  for (let b = 255; b >= 0; b--) table.set(decodeEbcdic(new Uint8Array([b]), charset), b);
  table.set('\n', 0x25); // LF; NEL (0x15) decodes to '\n' too
  return new Uint8Array([...text].map((ch) => table.get(ch) ?? 0x6f));
}

describe('decodeText on legacy encodings', () => {
  it.each(CASES)('decodes %s', (encoding, sample, names) => {
    const bytes = new Uint8Array(iconv.encode(file(sample), encoding));
    const r = decodeText(bytes);
    expect(names).toContain(r.charset);
    expect(r.text).toBe(file(sample));
  });

  it.each(['ibm037', 'ibm500'] as const)('decodes EBCDIC %s', (charset) => {
    const text = file(`${ENGLISH} Prices: 15.50; (see "Article 1").`);
    const r = decodeText(encodeEbcdic(text, charset));
    expect(r.charset).toMatch(/^ibm0?(037|500)$/);
    expect(r.text).toBe(text);
  });

  it('tells cp500 from cp037 by paired brackets', () => {
    const text = file(`${ENGLISH} [see Article 1] [and 2]`);
    const r = decodeText(encodeEbcdic(text, 'ibm500'));
    expect(r.charset).toBe('ibm500');
    expect(r.text).toBe(text);
  });

  it('turns EBCDIC NEL line ends into line feeds', () => {
    const bytes = encodeEbcdic(file(ENGLISH), 'ibm037').map((b) => (b === 0x25 ? 0x15 : b));
    expect(decodeText(bytes).text).toBe(file(ENGLISH));
  });
});
