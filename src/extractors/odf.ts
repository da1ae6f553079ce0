// Shared reading of OpenDocument packages (ODT, ODS, ODP): content.xml and meta.xml
// behind the zip guard and the DTD refusal, paragraph text with ODF's space, tab
// and line-break elements, numbered lists, notes kept apart (and marked), and
// tables with spanned cells repeated on the columns and rows they cover.
import { SluiceError } from '../errors.ts';
import { openPackage } from './ooxml.ts';
import type { ExtractInput } from './types.ts';
import { find, kids, parseXml, textOf, type XmlElement } from './xml.ts';

export interface OdfPackage {
  content: XmlElement;
  metadata: Record<string, string | null>;
  /** Numbered list styles: style name → levels (1-based) that number their items. */
  numbered: Map<string, Set<number>>;
  /** Paragraph style name → its parent style name (to find Title/Heading styles). */
  parents: Map<string, string>;
}

/** Open an ODF package of `format`, checking its mimetype entry when present. */
export async function openOdf(input: ExtractInput, format: string, mime: string): Promise<OdfPackage> {
  const zip = openPackage(input, format);
  if (zip.has('mimetype') && zip.read('mimetype').toString('latin1').trim() !== mime) {
    throw new SluiceError(
      'CORRUPT_FILE',
      `${format} package declares another type: ${zip.read('mimetype').toString('latin1').slice(0, 80)}`,
    );
  }
  if (!zip.has('content.xml')) throw new SluiceError('CORRUPT_FILE', `${format} has no content.xml`);
  const content = await parseXml(zip.readXml('content.xml'), `${format} content.xml`);
  const meta = zip.has('meta.xml')
    ? await parseXml(zip.readXml('meta.xml'), `${format} meta.xml`)
    : undefined;
  const prop = (name: string): string | null => {
    const el = meta && find(meta, name);
    return el ? textOf(el).trim() || null : null;
  };
  const numbered = new Map<string, Set<number>>();
  const parents = new Map<string, string>();
  const styles = find(content, 'automatic-styles');
  for (const st of styles ? kids(styles) : []) {
    if (st.name === 'list-style' && st.attrs['name']) {
      const levels = new Set<number>();
      for (const lv of kids(st, 'list-level-style-number')) {
        if (lv.attrs['num-format']) levels.add(Number(lv.attrs['level'] ?? 1));
      }
      numbered.set(st.attrs['name'], levels);
    } else if (st.name === 'style' && st.attrs['name'] && st.attrs['parent-style-name']) {
      parents.set(st.attrs['name'], st.attrs['parent-style-name']);
    }
  }
  return {
    content,
    numbered,
    parents,
    metadata: {
      title: prop('title'),
      author: prop('creator') ?? prop('initial-creator'),
      language: prop('language'),
      creationDate: prop('creation-date'),
    },
  };
}

/** Text of a paragraph-like element: spans flattened, `text:s`/`tab`/`line-break` honoured, notes and annotations left out. */
export function inlineText(el: XmlElement, notes?: string[]): string {
  let s = '';
  for (const c of el.children) {
    if (typeof c === 'string') {
      s += c.replace(/\s+/g, ' ');
      continue;
    }
    switch (c.name) {
      case 's':
        s += ' '.repeat(Math.min(Number(c.attrs['c'] ?? 1) || 1, 100));
        break;
      case 'tab':
        s += '\t';
        break;
      case 'line-break':
        s += '\n';
        break;
      case 'note': {
        const citation = find(c, 'note-citation');
        const body = find(c, 'note-body');
        const mark = citation ? textOf(citation).trim() : String((notes?.length ?? 0) + 1);
        s += `[${mark}]`;
        if (body && notes)
          notes.push(
            `[${mark}] ${kids(body)
              .map((p) => inlineText(p))
              .join(' ')
              .trim()}`,
          );
        break;
      }
      case 'annotation':
      case 'annotation-end':
      case 'tracked-changes':
        break;
      default:
        s += inlineText(c, notes);
    }
  }
  return s;
}

/** Most columns a repeated cell expands to (real sheets repeat empty cells to column 16,384). */
const MAX_REPEAT_COLUMNS = 1024;

/**
 * Rows of a table:table (1-based row numbers), cells as text. Spanned cells repeat
 * their text over the columns and rows they cover; repeated rows and columns are
 * expanded only while they hold text (a sheet's million trailing empty rows cost
 * nothing); `budget.cells` bounds the cells kept (TOO_LARGE beyond).
 */
export function odfTableRows(
  table: XmlElement,
  cellText: (cell: XmlElement) => string,
  budget: { cells: number },
): Array<{ n: number; cells: string[] }> {
  const out: Array<{ n: number; cells: string[] }> = [];
  let below: Array<{ text: string; rows: number } | undefined> = [];
  let n = 0;
  for (const tr of rowsOf(table)) {
    const cells: string[] = [];
    const next: typeof below = [];
    for (const tc of kids(tr).filter((k) => k.name === 'table-cell' || k.name === 'covered-table-cell')) {
      const covered = tc.name === 'covered-table-cell';
      const own = covered ? '' : cellText(tc);
      const repeat = Math.min(Number(tc.attrs['number-columns-repeated'] ?? 1) || 1, MAX_REPEAT_COLUMNS);
      const across = Math.min(Number(tc.attrs['number-columns-spanned'] ?? 1) || 1, MAX_REPEAT_COLUMNS);
      const down = Math.min(Number(tc.attrs['number-rows-spanned'] ?? 1) || 1, 10_000);
      for (let r = 0; r < repeat; r++) {
        const col = cells.length;
        const held = below[col];
        // A covered cell belongs to a span from a row above, else to the cell on its left.
        const text = covered ? (held?.text ?? cells[col - 1] ?? '') : own;
        if (covered && held && held.rows > 1) next[col] = { text: held.text, rows: held.rows - 1 };
        if (!covered && down > 1)
          for (let k = 0; k < across; k++) next[col + k] = { text: own, rows: down - 1 };
        cells.push(text);
      }
    }
    below = next;
    const rowRepeat = Number(tr.attrs['number-rows-repeated'] ?? 1) || 1;
    if (!cells.some(Boolean)) {
      n += rowRepeat;
      continue;
    }
    for (let r = 0; r < Math.min(rowRepeat, 10_000); r++) {
      budget.cells -= cells.length;
      if (budget.cells < 0) throw new SluiceError('TOO_LARGE', 'spreadsheet has too many cells');
      out.push({ n: ++n, cells: [...cells] });
    }
  }
  return out;
}

function rowsOf(el: XmlElement): XmlElement[] {
  return kids(el).flatMap((k) =>
    k.name === 'table-row' ? [k] : /^table-(header-rows|rows|row-group)$/.test(k.name) ? rowsOf(k) : [],
  );
}
