// Table bookkeeping for the HTML walker: layout tables (read as blocks, headings
// allowed) told from data tables, and rowspan/colspan cells tracked so each row
// reads whole.

/** The slice of the domhandler node shape these helpers read. */
export interface DomNode {
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: DomNode[];
}

export interface TableState {
  /** A layout table: cells are blocks (headings allowed), not " | " columns. */
  layout: boolean;
  /** Columns placed in the current row. */
  col: number;
  /** Per column, a cell spanning down from a row above and the rows it still covers. */
  carry: Array<{ text: string; rows: number } | undefined>;
  /** Where the open cell's text starts in the current line, and its spans. */
  cellStart: number;
  spans: Array<{ cols: number; rows: number }>;
}

export const newTable = (layout: boolean): TableState => ({
  layout,
  col: 0,
  carry: [],
  cellStart: 0,
  spans: [],
});

export function spansOf(node: DomNode): { cols: number; rows: number } {
  const n = (v: string | undefined, max: number) =>
    Math.min(Math.max(Number.parseInt(v ?? '1', 10) || 1, 1), max);
  return { cols: n(node.attribs?.colspan, 64), rows: n(node.attribs?.rowspan, 1000) };
}

/**
 * A table used for page layout, not data: marked role="presentation"/"none", or
 * holding headings in its own cells (bounded look, nested tables not entered).
 */
export function isLayoutTable(node: DomNode): boolean {
  const role = node.attribs?.role?.toLowerCase();
  if (role === 'presentation' || role === 'none') return true;
  const stack = [...(node.children ?? [])];
  for (let seen = 0; stack.length > 0 && seen < 20_000; seen++) {
    const n = stack.pop()!;
    const name = n.name?.toLowerCase();
    if (name && /^h[1-6]$/.test(name)) return true;
    if (name !== 'table') for (const k of n.children ?? []) stack.push(k);
  }
  return false;
}

/** Whether a <figure> has its own caption (then an image's alt text is left out). */
export const hasCaption = (figure: DomNode): boolean =>
  (figure.children ?? []).some((k) => k.name === 'figcaption');
