// Which text the chunker splits together. A document's sections become segments
// (Markdown link-reference definitions dropped: they are URLs, not content),
// consecutive segments with one heading path form a group, and then groups too
// small to be a useful chunk are merged into a neighbour in the same part of the
// outline (one heading path a prefix of the other), the way Unstructured's
// `combine_text_under_n_chars` and Docling's `merge_peers` do. A heading with no
// text of its own never becomes a chunk: it joins the section it introduces (unless
// the document is nothing but headings).
import type { Section } from '../extractors/types.ts';

/** A piece of the joined document text the chunker keeps. */
export interface Segment {
  /** Offset of the first character in the joined document text. */
  start: number;
  /** Offset just past the last character. */
  end: number;
  text: string;
  headingPath: string[];
  page: number | undefined;
  /** Source rows of a table block (see Section.rows). */
  rows?: { start: number; end: number } | undefined;
  /** Facts every chunk drawn from this text carries (see Section.metadata). */
  metadata?: Record<string, unknown> | undefined;
}

export interface Group {
  segments: Segment[];
  /** The heading path every segment shares (their longest common prefix). */
  headingPath: string[];
  /** True when the group's text is only its heading. */
  headingOnly: boolean;
}

// `[label]: destination "optional title"` (CommonMark link reference definition);
// footnotes (`[^1]: text`) are content and stay.
// The destination may be gone: extractors strip `<url>` as if it were an HTML tag.
const LINK_REF =
  /^ {0,3}\[(?!\^)[^\]\n]+\]:[ \t]*(?:<[^>\n]*>|\S+)?(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$/;

/** Sections → segments at their offsets in `sections.join(separator)`, link-reference blocks removed. */
export function segmentsOf(sections: readonly Section[], separator: string): Segment[] {
  const out: Segment[] = [];
  let offset = 0;
  sections.forEach((section, i) => {
    const base = i === 0 ? 0 : offset + separator.length;
    offset = base + section.text.length;
    for (const [from, to] of keptRanges(section.text)) {
      out.push({
        start: base + from,
        end: base + to,
        text: section.text.slice(from, to),
        headingPath: section.headingPath ?? [],
        page: section.page,
        rows: section.rows,
        metadata: section.metadata,
      });
    }
  });
  return out;
}

/** Ranges of `text` outside blocks (blank-line separated) made only of link-reference definitions. */
function keptRanges(text: string): Array<[number, number]> {
  if (!text.includes(']:')) return [[0, text.length]];
  const ranges: Array<[number, number]> = [];
  let keepFrom = 0;
  const blank = /\n[ \t]*\n/g;
  let blockStart = 0;
  for (;;) {
    const m = blank.exec(text);
    const blockEnd = m ? m.index : text.length;
    const lines = text.slice(blockStart, blockEnd).split('\n');
    if (lines.some((l) => l.trim()) && lines.every((l) => !l.trim() || LINK_REF.test(l))) {
      if (blockStart > keepFrom) ranges.push([keepFrom, blockStart]);
      keepFrom = m ? m.index + m[0].length : text.length;
    }
    if (!m) break;
    blockStart = m.index + m[0].length;
  }
  if (keepFrom < text.length) ranges.push([keepFrom, text.length]);
  // Trim the blank lines a removed block leaves at a range's edges.
  return ranges
    .map(([a, b]): [number, number] => {
      const s = text.slice(a, b);
      const lead = s.length - s.trimStart().length;
      return [a + lead, a + s.trimEnd().length];
    })
    .filter(([a, b]) => b > a);
}

/**
 * The same heading, however typeset: section numbers ("6.9 "), case, quotes and
 * punctuation aside (a PDF's text line vs its bookmark title).
 */
function sameWords(text: string, heading: string): boolean {
  const words = (s: string) =>
    s
      .replace(/^\s*[\d.]+\s+/, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, '');
  const a = words(text);
  return a.length > 0 && a === words(heading);
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  return a.length <= b.length && a.every((h, i) => h === b[i]);
}

function commonPrefix(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) out.push(a[i]!);
  return out;
}

/** Same outline branch: one path is an ancestor of (or equal to) the other. */
function related(a: Group, b: Group): boolean {
  return isPrefix(a.headingPath, b.headingPath) || isPrefix(b.headingPath, a.headingPath);
}

function merge(a: Group, b: Group): Group {
  return {
    segments: [...a.segments, ...b.segments],
    headingPath: commonPrefix(a.headingPath, b.headingPath),
    headingOnly: false,
  };
}

/**
 * Groups segments (see the file header). `minSize` is in `measure` units; groups
 * under it merge with the next related group, else the previous one. A heading-only
 * group joins the next group when that is under it in the outline, else it is dropped.
 */
export function groupSegments(
  segments: readonly Segment[],
  measure: (s: string) => number,
  minSize: number,
): Group[] {
  const groups: Group[] = [];
  for (const seg of segments) {
    const last = groups.at(-1);
    if (last && samePath(last.headingPath, seg.headingPath)) {
      last.segments.push(seg);
      last.headingOnly = false;
    } else {
      const heading = seg.headingPath.at(-1);
      groups.push({
        segments: [seg],
        headingPath: seg.headingPath,
        headingOnly: heading !== undefined && sameWords(seg.text, heading),
      });
    }
  }
  const size = (g: Group) => g.segments.reduce((n, s) => n + measure(s.text), 0);
  const out: Group[] = [];
  for (let i = 0; i < groups.length; i++) {
    let g = groups[i]!;
    // A run of headings (a title, then its first subtitle...) joins the text below it.
    while (g.headingOnly && i + 1 < groups.length && isPrefix(g.headingPath, groups[i + 1]!.headingPath)) {
      g = merge(g, groups[++i]!);
    }
    if (g.headingOnly) continue;
    const next = groups[i + 1];
    if (size(g) < minSize && next && !next.headingOnly && related(g, next)) {
      groups[i + 1] = merge(g, next);
      continue;
    }
    const prev = out.at(-1);
    if (prev && (size(g) < minSize || size(prev) < minSize) && related(prev, g)) {
      out[out.length - 1] = merge(prev, g);
      continue;
    }
    out.push(g);
  }
  // A document of headings alone (an e-mail with a subject and no body, a title page)
  // is still worth finding by them: one chunk rather than none (NO_TEXT).
  if (out.length === 0 && groups.length > 0) return [groups.reduce(merge)];
  return out;
}
