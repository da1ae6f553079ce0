// Text normalisation between extraction and chunking: the same words should give
// the same chunk text (and so the same embedding-cache key) whatever the source
// format's quirks — CRLF, NBSP, soft hyphens, ligatures from PDFs, stray controls.
// Every step is one linear regex pass, so cleaning runs at tens of MB/s.
import { SluiceError } from '../errors.ts';
import type { ExtractedDocument } from '../extractors/types.ts';

const LIGATURES: Record<string, string> = {
  '\uFB00': 'ff',
  '\uFB01': 'fi',
  '\uFB02': 'fl',
  '\uFB03': 'ffi',
  '\uFB04': 'ffl',
  '\uFB05': 'st',
  '\uFB06': 'st',
};

/** Letters, marks and emoji: the neighbours that make a ZWJ/ZWNJ meaningful. */
const JOINABLE = /\p{L}|\p{M}|\p{Extended_Pictographic}|\p{Emoji_Modifier}|\uFE0F/u;

/** Normalise one piece of text (see the file header for the rules). */
export function cleanText(input: string): string {
  return (
    input
      .replace(/\r\n?|[\v\f\u2028\u2029\x85]/g, '\n')
      .normalize('NFC')
      .replace(/[\uFB00-\uFB06]/g, (m) => LIGATURES[m] ?? m)
      .replace(/[\u00AD\u200B\u2060\uFEFF\u180E]/g, '')
      .replace(/[\u200C\u200D]/g, keepJoinerInsideWord)
      .replace(/[\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F]/g, '')
      .replace(/[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g, ' ')
      // Interior runs only: leading indentation carries structure (lists, code).
      .replace(/(?<=[^ \t\n])[ \t]{2,}/g, ' ')
      .replace(/[ \t]+$/gm, '')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/^\s+|\s+$/g, '')
  );
}

/** Zero-width (non-)joiners shape Persian, Indic and emoji; elsewhere they are noise. */
function keepJoinerInsideWord(joiner: string, offset: number, whole: string): string {
  const before = charBefore(whole, offset);
  const after = String.fromCodePoint(whole.codePointAt(offset + 1) ?? 0x20);
  return JOINABLE.test(before) && JOINABLE.test(after) ? joiner : '';
}

function charBefore(s: string, offset: number): string {
  if (offset === 0) return ' ';
  const low = s.charCodeAt(offset - 1);
  const start = low >= 0xdc00 && low <= 0xdfff && offset >= 2 ? offset - 2 : offset - 1;
  return String.fromCodePoint(s.codePointAt(start) ?? 0x20);
}

/**
 * Clean every section (and the title), dropping sections left empty.
 * Throws NO_TEXT when nothing remains.
 */
export function cleanDocument(doc: ExtractedDocument): ExtractedDocument {
  const sections = [];
  for (const section of doc.sections) {
    const text = cleanText(section.text);
    if (text !== '') sections.push({ ...section, text });
  }
  if (sections.length === 0) throw new SluiceError('NO_TEXT', 'document has no text after cleaning');
  const title = doc.title === undefined ? undefined : cleanText(doc.title).replace(/\s+/g, ' ');
  const cleaned: ExtractedDocument = { ...doc, sections };
  if (title) cleaned.title = title;
  else delete cleaned.title;
  return cleaned;
}
