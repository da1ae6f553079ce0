// ODS extractor: one heading per sheet (its name), rows through table-sections.ts
// (header repeated per block, row ranges kept), cells as their displayed text
// (which is the cached result for formulas), spans repeated over covered cells.
import { SluiceError } from '../errors.ts';
import { inlineText, odfTableRows, openOdf } from './odf.ts';
import { checkTextSize } from './ooxml.ts';
import { TableSections } from './table-sections.ts';
import { checkAborted } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';
import { MAX_CELLS } from './xlsx-cells.ts';
import { find, kids, type XmlElement } from './xml.ts';

export const ODS_MIME = 'application/vnd.oasis.opendocument.spreadsheet';

const cellText = (cell: XmlElement): string =>
  kids(cell, 'p')
    .map((p) => inlineText(p).trim())
    .filter(Boolean)
    .join(' ');

export const odsExtractor: Extractor = {
  name: 'ods',
  version: 1,
  mimeTypes: [ODS_MIME],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    const pkg = await openOdf(input, 'ODS', ODS_MIME);
    const body = find(pkg.content, 'spreadsheet');
    if (!body) throw new SluiceError('CORRUPT_FILE', 'ODS has no spreadsheet body');
    const sections: Section[] = [];
    const sheets: string[] = [];
    const budget = { cells: MAX_CELLS };
    for (const table of kids(body, 'table')) {
      checkAborted(input.signal);
      const name = table.attrs['name']?.trim() || `Sheet ${sheets.length + 1}`;
      sheets.push(name);
      const blocks = new TableSections([name], (s) => sections.push(s));
      let prev = 0;
      for (const row of odfTableRows(table, cellText, budget)) {
        if (prev && row.n > prev + 1) blocks.finish();
        blocks.add(row);
        prev = row.n;
      }
      blocks.finish();
    }
    checkTextSize(
      sections.reduce((n, s) => n + s.text.length, 0),
      input.limits.maxTextChars,
      'ODS',
    );
    return {
      ...(pkg.metadata['title'] ? { title: pkg.metadata['title'] } : {}),
      metadata: { ...pkg.metadata, sheets },
      sections,
    };
  },
};
