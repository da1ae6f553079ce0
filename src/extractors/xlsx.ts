// XLSX extractor: one heading per sheet (the sheet name), rows rendered by
// table-sections.ts (header repeated per block, row ranges kept), cells from
// xlsx-cells.ts (shared strings, cached formula values, dates, merges), charts from
// xlsx-charts.ts (title and cached series data); hidden sheets are read and listed
// in the metadata.
import { SluiceError } from '../errors.ts';
import { checkTextSize, coreProperties, openPackage, readRels } from './ooxml.ts';
import { TableSections } from './table-sections.ts';
import { checkAborted } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';
import { dateStyles, MAX_CELLS, readSheet, sharedStrings } from './xlsx-cells.ts';
import { chartSections } from './xlsx-charts.ts';
import { find, kids, parseXml } from './xml.ts';

export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const FORMAT = 'XLSX';

/** Rows of a sheet, in order, as sections; a gap in row numbers is a blank row. */
export function sheetSections(name: string, rows: ReadonlyMap<number, readonly string[]>): Section[] {
  const out: Section[] = [];
  const numbers = [...rows.keys()].sort((a, b) => a - b);
  // Leading columns empty on every row would render as empty cells on every line.
  let first = Number.POSITIVE_INFINITY;
  for (const r of rows.values())
    first = Math.min(
      first,
      r.findIndex((c) => c !== undefined && c !== ''),
    );
  const table = new TableSections([name], (s) => out.push(s));
  let prev = 0;
  for (const n of numbers) {
    if (prev && n > prev + 1) table.finish();
    const row = rows.get(n) ?? [];
    table.add({ n, cells: Array.from(row.slice(Math.max(first, 0)), (c) => c ?? '') });
    prev = n;
  }
  table.finish();
  return out;
}

export const xlsxExtractor: Extractor = {
  name: 'xlsx',
  version: 1,
  mimeTypes: [XLSX_MIME],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    const zip = openPackage(input, FORMAT);
    const wbName = 'xl/workbook.xml';
    if (!zip.has(wbName))
      throw new SluiceError('CORRUPT_FILE', 'XLSX has no xl/workbook.xml: not a workbook');
    const wb = await parseXml(zip.readXml(wbName), wbName);
    const rels = await readRels(zip, wbName);
    const relTargets = [...rels.values()];
    const strings = await sharedStrings(
      zip,
      relTargets.find((t) => /sharedStrings\.xml$/i.test(t)),
    );
    const dates = await dateStyles(
      zip,
      relTargets.find((t) => /styles\.xml$/i.test(t)),
    );
    const pr = find(wb, 'workbookPr')?.attrs['date1904'];
    const ctx = { strings, dates, date1904: pr === '1' || pr === 'true', budget: { cells: MAX_CELLS } };
    const sheetsEl = find(wb, 'sheets');
    const sections: Section[] = [];
    const sheetNames: string[] = [];
    const hiddenSheets: string[] = [];
    let chars = 0;
    for (const sheet of sheetsEl ? kids(sheetsEl, 'sheet') : []) {
      checkAborted(input.signal);
      const name = (sheet.attrs['name'] ?? '').trim() || `Sheet ${sheetNames.length + 1}`;
      const part = rels.get(sheet.attrs['id'] ?? '');
      if (!part || !zip.has(part) || !/(work|chart)sheets\//.test(part)) continue;
      sheetNames.push(name);
      if (sheet.attrs['state'] && sheet.attrs['state'] !== 'visible') hiddenSheets.push(name);
      const cells = /worksheets\//.test(part) ? sheetSections(name, await readSheet(zip, part, ctx)) : [];
      for (const s of [...cells, ...(await chartSections(zip, part, name))]) {
        chars += s.text.length;
        if (chars > input.limits.maxTextChars) checkTextSize(chars, input.limits.maxTextChars, FORMAT);
        sections.push(s);
      }
    }
    checkTextSize(chars, input.limits.maxTextChars, FORMAT);
    const core = await coreProperties(zip);
    return {
      ...(core['title'] ? { title: core['title'] } : {}),
      metadata: { ...core, sheets: sheetNames, ...(hiddenSheets.length ? { hiddenSheets } : {}) },
      sections,
    };
  },
};
