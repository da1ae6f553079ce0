// Cell-level reading of SpreadsheetML: the shared-string table, date styles and
// one worksheet streamed into a sparse grid (never a DOM), with merged ranges
// filled from their top-left cell and formulas read as their cached values. A cell
// budget shared by the workbook makes a sheet of millions of cells fail TOO_LARGE.
import { SluiceError } from '../errors.ts';
import { streamXml } from './xml.ts';
import type { ZipArchive } from './zip-read.ts';

/** Most cells read from one workbook; beyond it the workbook fails TOO_LARGE. */
export const MAX_CELLS = 2_000_000;
/** Most shared strings accepted. */
export const MAX_SHARED_STRINGS = 2_000_000;

export interface CellBudget {
  cells: number;
}

/** Column index (0-based) of a cell reference like "AB12". */
export function columnOf(ref: string): number {
  let col = 0;
  for (const ch of ref) {
    const c = ch.charCodeAt(0);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  return col - 1;
}
const rowOf = (ref: string): number => Number(/\d+$/.exec(ref)?.[0] ?? 0);

export async function sharedStrings(zip: ZipArchive, part: string | undefined): Promise<string[]> {
  if (!part || !zip.has(part)) return [];
  const out: string[] = [];
  let current: string | undefined;
  let inText = false;
  let phonetic = 0;
  await streamXml(zip.readXmlBytes(part), part, {
    open(name) {
      if (name === 'si') current = '';
      else if (name === 'rPh') phonetic++;
      else if (name === 't' && !phonetic) inText = true;
    },
    text(t) {
      if (inText && current !== undefined) current += t;
    },
    close(name) {
      if (name === 't') inText = false;
      else if (name === 'rPh') phonetic--;
      else if (name === 'si') {
        if (out.length >= MAX_SHARED_STRINGS)
          throw new SluiceError('TOO_LARGE', `XLSX has over ${MAX_SHARED_STRINGS} shared strings`);
        out.push(current ?? '');
        current = undefined;
      }
    },
  });
  return out;
}

/** Built-in number formats that are dates (ECMA-376 18.8.30). */
const DATE_FORMAT_IDS = new Set([14, 15, 16, 17, 22, 27, 30, 36, 50, 57]);

/** Which cell style indexes (the `s` attribute) format numbers as dates. */
export async function dateStyles(zip: ZipArchive, part: string | undefined): Promise<Set<number>> {
  const out = new Set<number>();
  if (!part || !zip.has(part)) return out;
  const custom = new Map<number, string>();
  let inXfs = false;
  let xf = 0;
  await streamXml(zip.readXmlBytes(part), part, {
    open(name, a) {
      if (name === 'numFmt') custom.set(Number(a['numFmtId']), a['formatCode'] ?? '');
      else if (name === 'cellXfs') inXfs = true;
      else if (name === 'xf' && inXfs) {
        const id = Number(a['numFmtId'] ?? 0);
        const code = (custom.get(id) ?? '').replace(/"[^"]*"|\[[^\]]*\]/g, '');
        if (DATE_FORMAT_IDS.has(id) || /[dy]/i.test(code)) out.add(xf);
        xf++;
      }
    },
    close(name) {
      if (name === 'cellXfs') inXfs = false;
    },
  });
  return out;
}

/** An Excel date serial as ISO text (1900 or 1904 date system; time kept when present). */
export function serialToIso(serial: number, date1904: boolean): string {
  const days = date1904 ? serial + 1462 : serial;
  const ms = Math.round((days - 25569) * 86_400_000);
  const iso = new Date(ms).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19).replace('T', ' ');
}

export interface SheetContext {
  strings: readonly string[];
  dates: ReadonlySet<number>;
  date1904: boolean;
  budget: CellBudget;
}

/** A worksheet as rows of cell text keyed by 1-based row number, merges resolved. */
export async function readSheet(
  zip: ZipArchive,
  part: string,
  ctx: SheetContext,
): Promise<Map<number, string[]>> {
  const rows = new Map<number, string[]>();
  const merges: string[] = [];
  let rowNo = 0;
  let cell: { ref: string; type: string; style: number } | undefined;
  let col = -1;
  let value = '';
  let capture = false;
  await streamXml(zip.readXmlBytes(part), part, {
    open(name, a) {
      if (name === 'row') {
        rowNo = a['r'] ? Number(a['r']) : rowNo + 1;
        col = -1;
      } else if (name === 'c') {
        const ref = a['r'] ?? '';
        col = ref ? columnOf(ref) : col + 1;
        cell = { ref, type: a['t'] ?? 'n', style: Number(a['s'] ?? 0) };
        value = '';
      } else if (cell && (name === 'v' || name === 't')) capture = true;
      else if (name === 'mergeCell' && a['ref']) merges.push(a['ref']);
    },
    text(t) {
      if (capture) value += t;
    },
    close(name) {
      if (name === 'v' || name === 't') capture = false;
      else if (name === 'c' && cell) {
        const text = cellText(cell.type, cell.style, value, ctx);
        if (text !== '' && col >= 0 && col < 16_384) {
          if (--ctx.budget.cells < 0) throw new SluiceError('TOO_LARGE', `XLSX has over ${MAX_CELLS} cells`);
          rowAt(rows, rowNo)[col] = text;
        }
        cell = undefined;
      }
    },
  });
  for (const ref of merges) fillMerge(rows, ref);
  return rows;
}

function cellText(type: string, style: number, raw: string, ctx: SheetContext): string {
  if (type === 's') return ctx.strings[Number(raw)] ?? '';
  if (type === 'b') return raw === '1' ? 'TRUE' : raw === '0' ? 'FALSE' : raw;
  if (type !== 'n' || raw === '') return raw;
  const n = Number(raw);
  if (!Number.isFinite(n)) return raw;
  return ctx.dates.has(style) && n >= 0 && n < 2_958_466 ? serialToIso(n, ctx.date1904) : String(n);
}

function rowAt(rows: Map<number, string[]>, n: number): string[] {
  const found = rows.get(n);
  if (found) return found;
  const row: string[] = [];
  rows.set(n, row);
  return row;
}

/** Copy a merged range's top-left text into every cell of the range (bounded). */
function fillMerge(rows: Map<number, string[]>, ref: string): void {
  const [a, b] = ref.split(':');
  if (!a || !b) return;
  const r0 = rowOf(a);
  const r1 = Math.min(rowOf(b), r0 + 1000);
  const c0 = columnOf(a);
  const c1 = Math.min(columnOf(b), c0 + 100);
  const text = rows.get(r0)?.[c0];
  if (text === undefined) return;
  for (let r = r0; r <= r1; r++) {
    const row = rowAt(rows, r);
    for (let c = c0; c <= c1; c++) row[c] = text;
  }
}
