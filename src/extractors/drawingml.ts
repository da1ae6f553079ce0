// DrawingML text (the a:txBody/a:p/a:r runs used by PowerPoint shapes and tables):
// paragraphs with line breaks, automatic numbering ("1.", "2.") and bullets kept,
// and tables as " | " rows with merged cells repeated so each row reads whole.

import { tidy } from './ooxml.ts';
import { kids, type XmlElement } from './xml.ts';

/** Text of one a:p: runs, fields and breaks, no markup. */
function paragraphText(p: XmlElement): string {
  let s = '';
  for (const c of p.children) {
    if (typeof c === 'string') continue;
    if (c.name === 'r' || c.name === 'fld') for (const t of kids(c, 't')) s += runText(t);
    else if (c.name === 'br') s += '\n';
  }
  return s;
}
const runText = (t: XmlElement): string => t.children.filter((x) => typeof x === 'string').join('');

/** Item `n` as letters: 1 → a, 27 → aa. */
export const ALPHA = (n: number, upper: boolean): string => {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(((k - 1) % 26) + 97) + s;
  return upper ? s.toUpperCase() : s;
};
const ROMAN: Array<[number, string]> = [
  [1000, 'm'],
  [900, 'cm'],
  [500, 'd'],
  [400, 'cd'],
  [100, 'c'],
  [90, 'xc'],
  [50, 'l'],
  [40, 'xl'],
  [10, 'x'],
  [9, 'ix'],
  [5, 'v'],
  [4, 'iv'],
  [1, 'i'],
];
/** Item `n` as a lower-case Roman numeral. */
export function roman(n: number): string {
  let s = '';
  let k = n;
  for (const [v, r] of ROMAN) for (; k >= v; k -= v) s += r;
  return s;
}

/** The label of item `n` for a DrawingML auto-number scheme ("arabicPeriod", "romanUcParenR", ...). */
export function autoNumberLabel(scheme: string, n: number): string {
  const m = /^(arabic|alphaLc|alphaUc|romanLc|romanUc)(ParenBoth|ParenR|Period|Plain)/.exec(scheme);
  const kind = m?.[1] ?? 'arabic';
  const value =
    kind === 'alphaLc'
      ? ALPHA(n, false)
      : kind === 'alphaUc'
        ? ALPHA(n, true)
        : kind === 'romanLc'
          ? roman(n)
          : kind === 'romanUc'
            ? roman(n).toUpperCase()
            : String(n);
  const style = m?.[2] ?? 'Period';
  return style === 'ParenBoth'
    ? `(${value})`
    : style === 'ParenR'
      ? `${value})`
      : style === 'Plain'
        ? value
        : `${value}.`;
}

/** Lines of a text body (a:txBody or p:txBody): one per paragraph, numbered and bulleted lists marked. */
export function textBodyLines(body: XmlElement): string[] {
  const lines: string[] = [];
  const counters = new Map<number, number>();
  for (const p of kids(body, 'p')) {
    const text = tidy(paragraphText(p));
    const pPr = kids(p, 'pPr')[0];
    const level = Number(pPr?.attrs['lvl'] ?? 0) || 0;
    const auto = pPr && kids(pPr, 'buAutoNum')[0];
    const bullet = pPr && (kids(pPr, 'buChar')[0] ?? kids(pPr, 'buBlip')[0]);
    if (!text) continue;
    const indent = '  '.repeat(Math.min(level, 8));
    if (auto) {
      const start = Number(auto.attrs['startAt'] ?? 1) || 1;
      const n = (counters.get(level) ?? start - 1) + 1;
      counters.set(level, n);
      for (const k of counters.keys()) if (k > level) counters.delete(k);
      lines.push(`${indent}${autoNumberLabel(auto.attrs['type'] ?? 'arabicPeriod', n)} ${text}`);
    } else {
      counters.delete(level);
      lines.push(bullet ? `${indent}- ${text}` : `${indent}${text}`);
    }
  }
  return lines;
}

/** Rows of an a:tbl, cells joined by " | "; spanned and merged cells repeat their text. */
export function tableRows(tbl: XmlElement): string[] {
  const grid: string[][] = [];
  kids(tbl, 'tr').forEach((tr, r) => {
    const row: string[] = [];
    for (const tc of kids(tr, 'tc')) {
      const body = kids(tc, 'txBody')[0];
      const own = body ? textBodyLines(body).join(' ') : '';
      const col = row.length;
      // Continuation cells of a merge are empty in the file: take the merged text.
      const merged =
        tc.attrs['hMerge'] === '1' || tc.attrs['hMerge'] === 'true'
          ? row[col - 1]
          : tc.attrs['vMerge'] === '1' || tc.attrs['vMerge'] === 'true'
            ? grid[r - 1]?.[col]
            : undefined;
      row.push(merged ?? own);
    }
    grid.push(row);
  });
  return grid.filter((row) => row.some((c) => c.trim())).map((row) => row.join(' | '));
}
