// Turns table rows (a spreadsheet sheet, a CSV file) into sections a chunk can stand
// on: rows become " | " lines, blank rows split tables, and each table is cut into
// blocks small enough for one chunk, every block starting with the table's header
// row and carrying the source row range it covers.
import type { Section } from './types.ts';

/** Characters per block: below the default chunk size (1,000), so a chunk starts at a block and with its header. */
export const BLOCK_CHARS = 800;

export interface TableRow {
  /** 1-based row number in the source. */
  n: number;
  cells: readonly string[];
}

const clean = (c: string): string => c.replace(/\s+/g, ' ').trim();

/** A row as text, trailing empty cells dropped; '' for an empty row. */
export function rowText(cells: readonly string[]): string {
  const parts = cells.map(clean);
  while (parts.length && !parts.at(-1)) parts.pop();
  // A title merged across the table's width reads once, not once per column.
  if (parts.length > 1 && parts.every((p) => p === parts[0]) && /\p{L}/u.test(parts[0]!)) return parts[0]!;
  return parts.length ? parts.join(' | ') : '';
}

const isTitle = (head: string, next: string): boolean =>
  !head.includes(' | ') && next.split(' | ').filter(Boolean).length > 1;

/**
 * Collects rows into sections under `headingPath`. Feed rows in order with
 * {@link TableSections.add}, then call {@link TableSections.finish}; `onSection`
 * receives each finished section (so a huge CSV never holds all its rows).
 */
export class TableSections {
  /** The current table's header row; `shown` once a block has included it. */
  private header: { n: number; text: string; shown: boolean } | undefined;
  private lines: string[] = [];
  private chars = 0;
  private start = 0;
  private end = 0;

  private readonly headingPath: string[];
  private readonly onSection: (s: Section) => void;

  constructor(headingPath: string[], onSection: (s: Section) => void) {
    this.headingPath = headingPath;
    this.onSection = onSection;
  }

  add(row: TableRow): void {
    const text = rowText(row.cells);
    if (!text) {
      // A blank row ends the table: the next non-blank row is a new header.
      this.finish();
      return;
    }
    const head = this.header;
    if (head === undefined || (!head.shown && !this.lines.length && isTitle(head.text, text))) {
      // A lone cell above a wider row is the table's title, shown once, not its header.
      if (head)
        this.onSection({
          text: head.text,
          headingPath: this.headingPath,
          rows: { start: head.n, end: head.n },
        });
      this.header = { n: row.n, text, shown: false };
      return;
    }
    if (this.lines.length && this.chars + text.length > BLOCK_CHARS) this.flush();
    if (!this.lines.length) this.start = row.n;
    this.lines.push(text);
    this.chars += text.length + 1;
    this.end = row.n;
  }

  /** End the current table (a blank row, the end of the sheet or file). */
  finish(): void {
    this.flush();
    this.header = undefined;
  }

  private flush(): void {
    const head = this.header;
    if (!head) return;
    if (!this.lines.length) {
      // A table that is only a header row (or a title line) still counts.
      if (!head.shown)
        this.onSection({
          text: head.text,
          headingPath: this.headingPath,
          rows: { start: head.n, end: head.n },
        });
      head.shown = true;
      return;
    }
    // Every block repeats the header (unless the header alone would fill most of a
    // chunk); the first block's range includes the header row.
    const start = head.shown ? this.start : head.n;
    const repeat = !head.shown || head.text.length <= BLOCK_CHARS / 2;
    this.onSection({
      text: repeat ? `${head.text}\n${this.lines.join('\n')}` : this.lines.join('\n'),
      headingPath: this.headingPath,
      rows: { start, end: this.end },
    });
    head.shown = true;
    this.lines = [];
    this.chars = 0;
  }
}
