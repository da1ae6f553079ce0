// Reading order for one PDF page from positioned text items (support for pdf.ts).
// Content streams are often not in reading order, and two-column papers put both
// columns on the same baselines, so joining items by y alone interleaves columns.
// We build line fragments, cut the page into horizontal bands, and split a band
// into columns only where a vertical gutter runs through all of it and both sides
// read as prose (a gutter between short cells is a table, read row by row). Also the
// text clean-up of lines: ligatures, odd spaces, hyphenated line ends.

/** A text run with its position in top-down page coordinates (origin top-left). */
export interface PositionedItem {
  str: string;
  /** Left edge. */
  x: number;
  /** Baseline, growing downwards. */
  y: number;
  width: number;
  /** Font size (height of the text run). */
  size: number;
  /** Text runs up or down the page (margin stamps, rotated labels). */
  vertical?: boolean;
}

/** One line of a page in reading order. */
export interface PageLine {
  text: string;
  /** Top and bottom of the line box (top-down coordinates). */
  top: number;
  bottom: number;
  size: number;
  /** True when this line starts a new layout block (column, band or paragraph). */
  blockStart: boolean;
}

interface Frag {
  parts: string[];
  x0: number;
  x1: number;
  y: number;
  size: number;
}

const isBlank = (s: string): boolean => s.trim() === '';

/** Merge items in content-stream order into fragments: same baseline, small horizontal gap. */
function fragments(items: readonly PositionedItem[]): Frag[] {
  const out: Frag[] = [];
  let cur: Frag | undefined;
  let pendingSpace = false;
  for (const it of items) {
    if (isBlank(it.str)) {
      // Whitespace items only mark a word break; their widths are unreliable (justified
      // text stretches them) so they never extend a fragment across a column gutter.
      pendingSpace = it.str.length > 0;
      continue;
    }
    const size = Math.max(it.size, 1);
    const ref = cur ? Math.max(cur.size, size) : size;
    const gap = cur ? it.x - cur.x1 : 0;
    if (cur && Math.abs(it.y - cur.y) < 0.5 * ref && gap > -0.5 * ref && gap < ref) {
      if (pendingSpace || gap > 0.15 * ref) cur.parts.push(' ');
      cur.parts.push(it.str);
      cur.x1 = Math.max(cur.x1, it.x + it.width);
      // Superscripts are smaller: keep the body size and baseline of the fragment.
      if (size > cur.size) {
        cur.size = size;
        cur.y = it.y;
      }
    } else {
      cur = { parts: [it.str], x0: it.x, x1: it.x + Math.max(it.width, 0), y: it.y, size };
      out.push(cur);
    }
    pendingSpace = false;
  }
  return out;
}

const topOf = (f: Frag): number => f.y - 0.75 * f.size;
const bottomOf = (f: Frag): number => f.y + 0.15 * f.size;

/** Group fragments into slabs: runs whose vertical extents overlap (one visual row). */
function slabs(frags: readonly Frag[]): Frag[][] {
  const sorted = [...frags].sort((a, b) => topOf(a) - topOf(b));
  const out: Frag[][] = [];
  let bottom = Number.NEGATIVE_INFINITY;
  for (const f of sorted) {
    const last = out.at(-1);
    if (last && topOf(f) < bottom) last.push(f);
    else out.push([f]);
    bottom = last && topOf(f) < bottom ? Math.max(bottom, bottomOf(f)) : bottomOf(f);
  }
  return out;
}

/** The x position of the widest vertical gutter crossing all fragments, if wide enough. */
function gutter(frags: readonly Frag[]): number | undefined {
  if (frags.length < 2) return undefined;
  const spans = frags.map((f) => [f.x0, f.x1] as const).sort((a, b) => a[0] - b[0]);
  const sizes = frags.map((f) => f.size).sort((a, b) => a - b);
  const minGap = Math.max(5, 0.8 * (sizes[Math.floor(sizes.length / 2)] ?? 10));
  let best: number | undefined;
  let bestWidth = minGap;
  let reach = spans[0]?.[1] ?? 0;
  for (const [x0, x1] of spans.slice(1)) {
    if (x0 - reach >= bestWidth) {
      bestWidth = x0 - reach;
      best = (x0 + reach) / 2;
    }
    reach = Math.max(reach, x1);
  }
  return best;
}

/** Whether fragments read like running text: several words per fragment on average. */
function prose(frags: readonly Frag[]): boolean {
  const words = frags.reduce((n, f) => n + f.parts.join('').split(/\s+/).filter(Boolean).length, 0);
  return frags.length > 0 && words >= 3 * frags.length;
}

/** Order fragments recursively: bands top to bottom, columns left to right within a band. */
function order(frags: Frag[], depth: number): Frag[][] {
  const bands: Frag[][] = [];
  let band: Frag[] = [];
  let hasColumns = false;
  for (const row of slabs(frags)) {
    const merged = band.concat(row);
    // A row joins the band while the band's column structure survives: a full-width
    // line ends a multi-column band, and a row with its own gutter ends a one-column band.
    const keeps =
      band.length === 0 || (hasColumns ? gutter(merged) !== undefined : gutter(row) === undefined);
    if (keeps) {
      band = merged;
    } else {
      bands.push(band);
      band = row;
    }
    hasColumns = gutter(band) !== undefined;
  }
  if (band.length) bands.push(band);
  const out: Frag[][] = [];
  for (const b of bands) {
    // One or two rows with a gap (an affiliation line, a caption pair) read better by row.
    const cut = depth < 4 && slabs(b).length >= 3 ? gutter(b) : undefined;
    const left = cut === undefined ? [] : b.filter((f) => f.x1 <= cut);
    const right = cut === undefined ? [] : b.filter((f) => f.x1 > cut);
    // Text columns carry prose; a gutter between short cells is a table, read by rows.
    if (!prose(left) || !prose(right)) {
      out.push(b);
      continue;
    }
    out.push(...order(left, depth + 1));
    out.push(...order(right, depth + 1));
  }
  return out;
}

function isRtl(text: string): boolean {
  const rtl = text.match(/[\p{Script=Arabic}\p{Script=Hebrew}]/gu)?.length ?? 0;
  return rtl > (text.match(/\p{L}/gu)?.length ?? 0) / 2;
}

/** Lines of one block: fragments sharing a row are joined left to right. */
function blockLines(block: readonly Frag[]): PageLine[] {
  const lines: PageLine[] = [];
  let prevBottom: number | undefined;
  let prevSize = 0;
  for (const row of slabs(block)) {
    // Right-to-left rows (Arabic, Hebrew) read their fragments from the right.
    const rtl = isRtl(row.map((f) => f.parts.join('')).join(''));
    row.sort((a, b) => (rtl ? b.x1 - a.x1 : a.x0 - b.x0));
    const text = row.map((f) => f.parts.join('')).join(' ');
    const top = Math.min(...row.map(topOf));
    const bottom = Math.max(...row.map(bottomOf));
    const size = Math.max(...row.map((f) => f.size));
    // A vertical gap well above normal leading, or a change of font size, starts a paragraph.
    const gapStart =
      prevBottom !== undefined && (top - prevBottom > 0.6 * size || Math.abs(size - prevSize) > 1);
    lines.push({ text, top, bottom, size, blockStart: lines.length === 0 || gapStart });
    prevBottom = bottom;
    prevSize = size;
  }
  return lines;
}

/** Lines of a page in reading order (bands top to bottom, columns left to right). */
export function readingOrder(items: readonly PositionedItem[]): PageLine[] {
  // Rotated runs (an arXiv stamp in the margin) would bridge column gutters; they are
  // read after the page body, in content-stream order.
  const frags = fragments(items.filter((i) => !i.vertical));
  const lines = frags.length ? order(frags, 0).flatMap(blockLines) : [];
  const side = items
    .filter((i) => i.vertical)
    .map((i) => i.str)
    .join('')
    .trim();
  if (side)
    lines.push({
      text: side,
      top: Number.POSITIVE_INFINITY,
      bottom: Number.POSITIVE_INFINITY,
      size: 0,
      blockStart: true,
    });
  return lines;
}

const LIGATURES: Record<string, string> = { ﬀ: 'ff', ﬁ: 'fi', ﬂ: 'fl', ﬃ: 'ffi', ﬄ: 'ffl', ﬅ: 'st', ﬆ: 'st' };

/** Ligatures to letters, odd spaces to plain spaces, invisible characters dropped. */
export function normalisePdfText(s: string): string {
  return (
    s
      .replace(/[ﬀ-ﬆ]/g, (c) => LIGATURES[c] ?? c)
      // Presentation forms (Arabic/Hebrew contextual glyphs) to plain letters, as pdf.js would.
      .replace(/[\ufb1d-\ufdff\ufe70-\ufefc]+/g, (run) => run.normalize('NFKC'))
      .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/g, '')
      .replace(/[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]/g, ' ')
      .replace(/ {2,}/g, ' ')
  );
}

/** Join the lines of a page into paragraphs, re-joining words split by a line-end hyphen. */
export function joinLines(lines: readonly PageLine[]): string {
  let out = '';
  for (const line of lines) {
    const text = line.text.trim();
    if (!text) continue;
    // A hyphen before a lower-case continuation joins the word, even across a column break.
    if (!out) out = text;
    else if (/\p{L}-$/u.test(out) && /^\p{Ll}/u.test(text)) out = out.slice(0, -1) + text;
    else if (line.blockStart) out += `\n\n${text}`;
    else if (/\p{L}-$/u.test(out)) out += text;
    else out += ` ${text}`;
  }
  return out;
}
