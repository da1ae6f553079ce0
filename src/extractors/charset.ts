// Bytes → string for text formats (plain, Markdown, HTML). Order of trust: a byte
// order mark, then UTF-16 recognised by its NUL pattern, then strict UTF-8, then a
// declared charset (HTML meta / XML declaration) when it decodes cleanly, then EBCDIC
// by its byte shape, and last a guess: `chardet` proposes (a CJK multi-byte charset
// it is sure of wins outright), and every single-byte proposal, plus the legacy code
// pages we actually meet, is scored on its decoding. The guess never invents bytes:
// every candidate is a full decode with Node's TextDecoder.
import { analyse } from 'chardet';
import { decodeEbcdic, detectEbcdic } from './ebcdic.ts';

/** Decoded text plus the WHATWG name of the charset that produced it. */
export interface DecodedText {
  text: string;
  charset: string;
}

/** Legacy code pages tried when bytes are neither UTF-8 nor UTF-16, in tie-break order. */
const LEGACY_CANDIDATES = ['windows-1252', 'windows-1251', 'koi8-r', 'ibm866', 'windows-1256', 'iso-8859-6'];

/** Bytes inspected by the heuristics; decoding itself always covers the whole input. */
const SAMPLE_BYTES = 64 * 1024;

/** Decode text bytes. `hint` is a declared charset label (e.g. from `<meta charset>`). */
export function decodeText(bytes: Uint8Array, hint?: string): DecodedText {
  const bom = bomOf(bytes);
  if (bom) return { text: decodeWith(bom.charset, bytes.subarray(bom.length)), charset: bom.charset };
  // Before UTF-8: ASCII stored as UTF-16 is also valid (NUL-riddled) UTF-8.
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  const utf16 = utf16ByNulPattern(sample);
  if (utf16) {
    const text = tryDecode(utf16, bytes);
    if (text !== undefined) return { text, charset: utf16 };
  }
  const utf8 = tryDecode('utf-8', bytes);
  if (utf8 !== undefined) return { text: utf8, charset: 'utf-8' };
  const declared = normaliseLabel(hint);
  if (declared && declared !== 'utf-8' && !declared.startsWith('utf-16')) {
    const text = tryDecode(declared, bytes);
    if (text !== undefined && scoreDecoded(text.slice(0, SAMPLE_BYTES), declared) >= 0) {
      return { text, charset: declared };
    }
  }
  const ebcdic = detectEbcdic(sample);
  if (ebcdic) return { text: decodeEbcdic(bytes, ebcdic), charset: ebcdic };
  const charset = guessLegacyCharset(sample);
  return { text: decodeWith(charset, bytes), charset };
}

/** The BOM-declared charset, if any. */
export function bomOf(bytes: Uint8Array): { charset: string; length: number } | undefined {
  const [a, b, c] = bytes;
  if (a === 0xef && b === 0xbb && c === 0xbf) return { charset: 'utf-8', length: 3 };
  if (a === 0xff && b === 0xfe) return { charset: 'utf-16le', length: 2 };
  if (a === 0xfe && b === 0xff) return { charset: 'utf-16be', length: 2 };
  return undefined;
}

/**
 * UTF-16 without a BOM: mostly-ASCII text has a NUL in every other byte, on the
 * even offsets for big-endian and the odd ones for little-endian.
 */
export function utf16ByNulPattern(sample: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const pairs = Math.floor(sample.length / 2);
  if (pairs < 2) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i + 1 < sample.length; i += 2) {
    if (sample[i] === 0) evenNul++;
    if (sample[i + 1] === 0) oddNul++;
  }
  if (evenNul > pairs * 0.4 && oddNul < pairs * 0.05) return 'utf-16be';
  if (oddNul > pairs * 0.4 && evenNul < pairs * 0.05) return 'utf-16le';
  return undefined;
}

/** The charset declared in the first bytes of HTML or XML (`<meta charset>`, `<?xml encoding>`). */
export function declaredCharset(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 4096));
  const m =
    /<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_:.+-]+)/i.exec(head) ??
    /<\?xml[^>]+encoding\s*=\s*["']([a-z0-9_:.+-]+)/i.exec(head);
  return normaliseLabel(m?.[1]);
}

/** Multi-byte charsets chardet recognises by their byte grammar (confidence 100 on real text). */
const MULTI_BYTE = new Set(['shift_jis', 'euc-jp', 'gb18030', 'gbk', 'big5', 'euc-kr', 'iso-2022-jp']);

/** A chardet ISO-8859 answer also tries the Windows superset that is more common in files. */
const WINDOWS_SIBLING: Record<string, string> = {
  'iso-8859-2': 'windows-1250',
  'iso-8859-6': 'windows-1256',
  'iso-8859-7': 'windows-1253',
  'iso-8859-8': 'windows-1255',
  'iso-8859-13': 'windows-1257',
  'iso-8859-4': 'windows-1257',
};

/** chardet's proposals as WHATWG labels TextDecoder knows, most likely first. */
function proposals(sample: Uint8Array): { label: string; confidence: number }[] {
  const out: { label: string; confidence: number }[] = [];
  for (const match of analyse(sample)) {
    const label = normaliseLabel(match.name);
    if (!label || label === 'utf-8' || label.startsWith('utf-16') || label === 'replacement') continue;
    const sibling = WINDOWS_SIBLING[label];
    if (sibling) out.push({ label: sibling, confidence: match.confidence });
    out.push({ label, confidence: match.confidence });
  }
  return out;
}

/**
 * Guess the legacy charset of `sample`. A multi-byte charset chardet is sure of and
 * that decodes without error wins; otherwise each candidate's decoding is scored
 * (see scoreDecoded) and ties go to chardet's ranking, then to LEGACY_CANDIDATES order.
 */
export function guessLegacyCharset(sample: Uint8Array): string {
  const proposed = proposals(sample);
  const top = proposed[0];
  if (top && top.confidence >= 50 && MULTI_BYTE.has(top.label) && tryDecodeSample(top.label, sample)) {
    return top.label;
  }
  const candidates = [
    ...new Set([...proposed.filter((p) => p.confidence >= 10).map((p) => p.label), ...LEGACY_CANDIDATES]),
  ];
  let best = LEGACY_CANDIDATES[0]!;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const charset of candidates) {
    const text = tryDecodeSample(charset, sample);
    if (text === undefined) continue;
    const score = scoreDecoded(text, charset);
    if (score > bestScore) {
      best = charset;
      bestScore = score;
    }
  }
  return best;
}

const LETTER = /\p{L}|\p{M}/u;
const UPPER = /\p{Lu}/u;
const LATIN = /\p{Script=Latin}/u;
const SCRIPTS = [LATIN, /\p{Script=Cyrillic}/u, /\p{Script=Arabic}/u, /\p{Script=Greek}/u];

function scriptOf(ch: string): number {
  for (let i = 0; i < SCRIPTS.length; i++) if (SCRIPTS[i]!.test(ch)) return i;
  return -1;
}

/**
 * Plausibility of a decoding, judged on the characters that came from high bytes:
 * letters score, symbols and C1 controls cost, a word that switches script costs
 * (Latin-1 "schöne" read as Cyrillic gives "schцne"), an upper-case letter inside a
 * word costs (Windows-1251 read as KOI8-R swaps case), and three accented Latin
 * letters in a row cost (Cyrillic read as Latin-1 gives "Îäíàæäû").
 */
export function scoreDecoded(text: string, charset: string): number {
  const latinCodePage = charset === 'windows-1252' || charset.startsWith('iso-8859-1');
  let score = 0;
  let prev = ' ';
  let prevHigh = false;
  let run = 0;
  for (const ch of text) {
    const high = ch.charCodeAt(0) >= 0x80;
    const letter = LETTER.test(ch);
    if (high) {
      if (!letter) {
        score += /[\p{Cc}\p{Co}\p{Cn}\uFFFD]/u.test(ch) ? -3 : /[\p{P}\p{Zs}]/u.test(ch) ? 0 : -1;
      } else {
        score += 1;
        if (LETTER.test(prev)) {
          if (scriptOf(prev) !== scriptOf(ch)) score -= 3;
          else if (UPPER.test(ch) && !UPPER.test(prev)) score -= 2;
        }
        run = prevHigh ? run + 1 : 1;
        if (latinCodePage && run >= 3 && LATIN.test(ch)) score -= 3;
      }
    } else if (letter && prevHigh && LETTER.test(prev) && scriptOf(prev) !== 0) {
      score -= 3; // a non-Latin letter followed by an ASCII letter
    }
    prevHigh = high && letter;
    if (!prevHigh) run = 0;
    prev = ch;
  }
  return score;
}

/** A WHATWG-normalised charset name, or undefined for unknown labels. */
export function normaliseLabel(label: string | undefined): string | undefined {
  if (!label) return undefined;
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return undefined;
  }
}

function tryDecode(charset: string, bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder(charset, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Strict decode of a sample that may end inside a multi-byte character. */
function tryDecodeSample(charset: string, sample: Uint8Array): string | undefined {
  try {
    return new TextDecoder(charset, { fatal: true, ignoreBOM: true }).decode(sample, { stream: true });
  } catch {
    return undefined;
  }
}

function decodeWith(charset: string, bytes: Uint8Array): string {
  return new TextDecoder(charset, { ignoreBOM: true }).decode(bytes);
}
