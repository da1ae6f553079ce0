// Quality gate after extraction: does the text read like writing, or like garbage
// (a wrong charset, a binary file decoded as text, an e-mail's raw base64, a PDF
// font without a Unicode map)? One linear pass over a sample counts the signals;
// the score and its reasons are stored in the extraction metadata either way, and
// the extract stage fails a document below the threshold with LOW_QUALITY.
import { SluiceError } from '../errors.ts';
import type { ExtractedDocument } from '../extractors/types.ts';

/** What the gate found; stored as `metadata.quality`. */
export interface QualityReport {
  /** 1 = reads like text, 0 = garbage. */
  score: number;
  /** Below the threshold: the extract stage fails the document unless low quality is accepted. */
  low: boolean;
  /** Why the score is low, one short phrase per signal (empty when clean). */
  reasons: string[];
  /** Most frequent script among the letters (e.g. "Latin", "Han"), if any letters. */
  script?: string;
}

/** Scores below this fail the document. */
export const QUALITY_THRESHOLD = 0.5;

/** Characters examined: three windows (start, middle, end) of this size each. */
const WINDOW = 100_000;

const BAD = /[\uFFFD\p{Co}\p{Cn}]|[\x00-\x08\x0E-\x1F\x7F-\x9F]/u;
const LETTER = /[\p{L}\p{M}]/u;
const LOWER = /\p{Ll}/u;
const UPPER = /\p{Lu}/u;
const NUMBER_OR_SPACE = /[\p{N}\s]/u;
/** Punctuation, currency and the symbols ordinary prose, tables and formulas use. */
const COMMON = /[\p{P}\p{Sc}+<=>|~^`°±×÷\u2190-\u21FF\u2200-\u22FF\u2022\u2122©®§¶]/u;
const SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Arabic',
  'Hebrew',
  'Han',
  'Hiragana',
  'Katakana',
  'Hangul',
  'Thai',
  'Devanagari',
  'Armenian',
  'Georgian',
] as const;
const SCRIPT_RES = SCRIPTS.map((s) => new RegExp(`\\p{Script=${s}}`, 'u'));
/** Scripts written together inside one word (Japanese mixes kana and kanji). */
const FAMILY: Record<string, string> = { Han: 'CJK', Hiragana: 'CJK', Katakana: 'CJK', Hangul: 'CJK' };

/** Score the text of an extracted document (see QualityReport). */
export function assessQuality(doc: ExtractedDocument): QualityReport {
  const text = sampleOf(doc.sections.map((s) => s.text).join('\n'));
  const counts = countSignals(text);
  const visible = Math.max(1, counts.visible);
  const words = Math.max(1, counts.words);
  const bad = counts.bad / visible;
  const odd = counts.odd / visible;
  const mixed = counts.mixedWords / words;
  // Random bytes decoded as letters flip case mid-word ("кЖьЫ"); prose does not.
  const caseNoise = counts.words >= 20 ? counts.caseFlipWords / words : 0;
  const base64 = base64Share(text) / Math.max(1, text.length);
  const reasons: string[] = [];
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
  if (bad >= 0.005) reasons.push(`${pct(bad)} replacement, control or unassigned characters`);
  if (odd >= 0.03) reasons.push(`${pct(odd)} unusual symbols for text`);
  if (mixed >= 0.05) reasons.push(`${pct(mixed)} of words mix scripts (a wrong charset?)`);
  if (caseNoise >= 0.1) reasons.push(`${pct(caseNoise)} of words change case mid-word`);
  if (base64 >= 0.1) reasons.push(`${pct(base64)} of the text is base64-like encoded data`);
  if (counts.visible > 200 && counts.letters < counts.visible * 0.2 && counts.digits < counts.visible * 0.5) {
    reasons.push(`only ${pct(counts.letters / counts.visible)} letters`);
  }
  const letterPenalty =
    counts.visible > 200
      ? Math.max(0, 0.2 - counts.letters / visible) * 2.5 * (counts.digits < visible * 0.5 ? 1 : 0)
      : 0;
  const penalty = 8 * bad + 3 * odd + 2 * mixed + 1.5 * caseNoise + 1.5 * base64 + letterPenalty;
  const score = Math.round(Math.max(0, 1 - penalty) * 1000) / 1000;
  const report: QualityReport = { score, low: score < QUALITY_THRESHOLD, reasons };
  if (counts.script) report.script = counts.script;
  return report;
}

/** The one-line explanation used in a LOW_QUALITY error. */
export function describeLowQuality(q: Pick<QualityReport, 'score' | 'reasons'>): string {
  const why = q.reasons.length > 0 ? q.reasons.join('; ') : 'text does not read like writing';
  return (
    `extracted text looks like garbage (quality ${q.score.toFixed(2)} < ${QUALITY_THRESHOLD}): ${why}; ` +
    'check the file; to index it anyway, re-ingest it with --force --accept-low-quality ' +
    '(or set SLUICE_ACCEPT_LOW_QUALITY=true for the workers and run sluice retry)'
  );
}

/**
 * Throw LOW_QUALITY when `metadata.quality` (set in the extraction thread) is below
 * the threshold and low quality is not accepted. Extractions made before the gate
 * existed carry no report and pass.
 */
export function enforceQuality(metadata: Record<string, unknown>, accept: boolean): void {
  const q = metadata.quality as Partial<QualityReport> | undefined;
  if (accept || !q || q.low !== true || typeof q.score !== 'number') return;
  throw new SluiceError('LOW_QUALITY', describeLowQuality({ score: q.score, reasons: q.reasons ?? [] }), {
    details: { quality: q },
  });
}

function sampleOf(text: string): string {
  if (text.length <= 3 * WINDOW) return text;
  const mid = Math.floor(text.length / 2 - WINDOW / 2);
  return `${text.slice(0, WINDOW)}\n${text.slice(mid, mid + WINDOW)}\n${text.slice(-WINDOW)}`;
}

interface Signals {
  visible: number;
  letters: number;
  digits: number;
  bad: number;
  odd: number;
  words: number;
  mixedWords: number;
  caseFlipWords: number;
  script?: string;
}

// ASCII classes, computed once from the same patterns so both paths agree.
const A_SPACE = 1;
const A_LETTER = 2;
const A_LOWER = 4;
const A_BAD = 8;
const A_DIGIT = 16;
const A_COMMON = 32;
const ASCII_CLASS = Uint8Array.from({ length: 128 }, (_, c) => {
  const ch = String.fromCharCode(c);
  if (/\s/.test(ch)) return A_SPACE;
  if (LETTER.test(ch)) return A_LETTER | (LOWER.test(ch) ? A_LOWER : 0);
  if (BAD.test(ch)) return A_BAD;
  if (NUMBER_OR_SPACE.test(ch)) return A_DIGIT;
  return COMMON.test(ch) || /\p{Extended_Pictographic}/u.test(ch) ? A_COMMON : 0;
});

/**
 * One pass over the text. ASCII (most of what is indexed) goes through a lookup
 * table; other characters through the Unicode property patterns.
 */
function countSignals(text: string): Signals {
  const s: Signals = {
    visible: 0,
    letters: 0,
    digits: 0,
    bad: 0,
    odd: 0,
    words: 0,
    mixedWords: 0,
    caseFlipWords: 0,
  };
  const scriptCounts = new Map<string, number>();
  let latin = 0; // kept apart from the map in the hot loop, merged at the end
  let wordFamily: string | undefined;
  let wordMixed = false;
  let wordFlip = false;
  let prevLower = false;
  let inWord = false;
  const endWord = () => {
    if (inWord) {
      s.words++;
      if (wordMixed) s.mixedWords++;
      if (wordFlip) s.caseFlipWords++;
    }
    inWord = false;
    wordMixed = false;
    wordFlip = false;
    prevLower = false;
    wordFamily = undefined;
  };
  const countScript = (script: string) => {
    if (script === 'Latin') {
      if (latin === 0 && !scriptCounts.has('Latin')) scriptCounts.set('Latin', 0); // keeps first-seen order for ties
      latin++;
    } else scriptCounts.set(script, (scriptCounts.get(script) ?? 0) + 1);
    const family = FAMILY[script] ?? script;
    if (wordFamily !== undefined && wordFamily !== family) wordMixed = true;
    wordFamily = family;
  };
  for (let i = 0; i < text.length; ) {
    const code = text.charCodeAt(i);
    if (code < 128) {
      i++;
      const cls = ASCII_CLASS[code]!;
      if (cls === A_SPACE) {
        endWord();
        continue;
      }
      s.visible++;
      if (cls & A_LETTER) {
        s.letters++;
        prevLower = (cls & A_LOWER) !== 0;
        countScript('Latin');
        inWord = true;
        continue;
      }
      prevLower = false;
      if (cls === A_BAD) s.bad++;
      else if (cls === A_DIGIT) s.digits++;
      else if (cls !== A_COMMON) s.odd++;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    i += ch.length;
    if (/\s/.test(ch)) {
      endWord();
      continue;
    }
    s.visible++;
    if (LETTER.test(ch)) {
      s.letters++;
      const lower = LOWER.test(ch);
      // camelCase identifiers are ASCII, random high bytes are not.
      if (prevLower && UPPER.test(ch)) wordFlip = true;
      prevLower = lower;
      const script = scriptOf(ch);
      if (script) countScript(script);
      inWord = true;
      continue;
    }
    prevLower = false; // case flips count inside a run of letters only ("iPhone", not "Id,First")
    if (BAD.test(ch)) s.bad++;
    else if (NUMBER_OR_SPACE.test(ch)) s.digits++;
    else if (!COMMON.test(ch) && !/\p{Extended_Pictographic}/u.test(ch)) s.odd++;
    // A symbol inside a run of letters ("Ð¿Ñ€") is mojibake, not word punctuation.
    if (inWord && !COMMON.test(ch) && !/[\p{N}\p{Extended_Pictographic}]/u.test(ch)) wordMixed = true;
  }
  endWord();
  if (latin > 0) scriptCounts.set('Latin', latin);
  let best = 0;
  for (const [script, n] of scriptCounts) {
    if (n > best) {
      best = n;
      s.script = script;
    }
  }
  return s;
}

function scriptOf(ch: string): string | undefined {
  if (ch < '\u0080') return 'Latin';
  for (let i = 0; i < SCRIPT_RES.length; i++) if (SCRIPT_RES[i]!.test(ch)) return SCRIPTS[i];
  return undefined;
}

function base64Share(text: string): number {
  // One linear scan for runs of the base64 alphabet (a regex would retry from every
  // position inside each shorter run).
  let n = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && isBase64Char(text.charCodeAt(i))) continue;
    if (i - start >= BASE64_MIN_RUN) n += encodedLength(text, start, i);
    start = i + 1;
  }
  return n;
}

const BASE64_MIN_RUN = 60;

function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 47 && c <= 57) || c === 43;
}

/** The run plus up to two '=' of padding, if it looks like encoded data (mixed cases and digits). */
function encodedLength(text: string, from: number, to: number): number {
  const run = text.slice(from, to);
  // Long identifiers and URLs are letters only or carry separators; encoded data mixes cases and digits.
  if (!(/\d/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run))) return 0;
  let end = to;
  while (end < text.length && end - to < 2 && text.charCodeAt(end) === 61) end++;
  return end - from;
}
