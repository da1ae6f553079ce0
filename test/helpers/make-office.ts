// Minimal PPTX, XLSX, ODF and EPUB packages built from XML strings in the test, so
// each extractor case (hidden slides, notes, merges, formulas, huge sheets, entity
// bombs) states exactly what the file holds.
import { type RawEntry, writeZip } from './make-docx.ts';

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';
const P =
  'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** A ZIP of `parts` (deflated); parts named in `stored` replace them uncompressed. */
const zip = (parts: Record<string, string | Uint8Array>, stored: Record<string, string> = {}): Uint8Array =>
  writeZip([
    ...Object.entries(parts)
      .filter(([name]) => !(name in stored))
      .map(([name, body]) => ({ name, data: typeof body === 'string' ? Buffer.from(body) : body })),
    ...Object.entries(stored).map(
      ([name, body]): RawEntry => ({ name, data: Buffer.from(body), stored: true }),
    ),
  ]);

const rels = (targets: Array<[string, string, string]>): string =>
  `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${targets
    .map(([id, type, target]) => `<Relationship Id="${id}" Type="${REL}/${type}" Target="${target}"/>`)
    .join('')}</Relationships>`;

export interface SlideSpec {
  title?: string;
  body?: string[];
  notes?: string;
  hidden?: boolean;
  /** Rows of a table; "^" in a cell marks a vMerge continuation, "<" an hMerge one. */
  table?: string[][];
}

const para = (t: string, bullet = false): string =>
  `<a:p>${bullet ? '<a:pPr><a:buChar char="•"/></a:pPr>' : ''}<a:r><a:t>${t}</a:t></a:r></a:p>`;
const shape = (ph: string | undefined, paras: string, y: number): string =>
  `<p:sp><p:nvSpPr><p:cNvPr id="2" name="s"/><p:cNvSpPr/><p:nvPr>${ph ? `<p:ph type="${ph}"/>` : ''}</p:nvPr></p:nvSpPr><p:spPr><a:xfrm><a:off x="0" y="${y}"/></a:xfrm></p:spPr><p:txBody><a:bodyPr/>${paras}</p:txBody></p:sp>`;
const tableFrame = (rows: string[][]): string =>
  `<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="9" name="t"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm><a:off x="0" y="5000000"/></p:xfrm><a:graphic><a:graphicData><a:tbl>${rows
    .map(
      (r) =>
        `<a:tr>${r
          .map((c) =>
            c === '^'
              ? '<a:tc vMerge="1"><a:txBody><a:p/></a:txBody></a:tc>'
              : c === '<'
                ? '<a:tc hMerge="1"><a:txBody><a:p/></a:txBody></a:tc>'
                : `<a:tc><a:txBody>${para(c)}</a:txBody></a:tc>`,
          )
          .join('')}</a:tr>`,
    )
    .join('')}</a:tbl></a:graphicData></a:graphic></p:graphicFrame>`;

/** A PPTX with the given slides (titles, bullet bodies, notes, tables, hidden flags). */
export function makePptx(
  slides: SlideSpec[],
  extra: Record<string, string | Uint8Array> = {},
  stored: Record<string, string> = {},
): Uint8Array {
  const parts: Record<string, string> = {
    '[Content_Types].xml': `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/></Types>`,
    '_rels/.rels': rels([['rId1', 'officeDocument', 'ppt/presentation.xml']]),
    'ppt/presentation.xml': `${XML}<p:presentation ${P}><p:sldIdLst>${slides.map((_, i) => `<p:sldId id="${256 + i}" r:id="rId${i + 1}"/>`).join('')}</p:sldIdLst></p:presentation>`,
    'ppt/_rels/presentation.xml.rels': rels(
      slides.map((_, i) => [`rId${i + 1}`, 'slide', `slides/slide${i + 1}.xml`]),
    ),
  };
  slides.forEach((s, i) => {
    const shapes = [
      s.title ? shape('title', para(s.title), 100) : '',
      s.body ? shape(undefined, s.body.map((b) => para(b, true)).join(''), 2000000) : '',
      s.table ? tableFrame(s.table) : '',
    ].join('');
    parts[`ppt/slides/slide${i + 1}.xml`] =
      `${XML}<p:sld ${P}${s.hidden ? ' show="0"' : ''}><p:cSld><p:spTree>${shapes}</p:spTree></p:cSld></p:sld>`;
    if (s.notes) {
      parts[`ppt/slides/_rels/slide${i + 1}.xml.rels`] = rels([
        ['rId9', 'notesSlide', `../notesSlides/notesSlide${i + 1}.xml`],
      ]);
      parts[`ppt/notesSlides/notesSlide${i + 1}.xml`] =
        `${XML}<p:notes ${P}><p:cSld><p:spTree>${shape('sldImg', '', 0)}${shape('body', para(s.notes), 100)}${shape('sldNum', para(String(i + 1)), 200)}</p:spTree></p:cSld></p:notes>`;
    }
  });
  return zip({ ...parts, ...extra }, stored);
}

const S =
  'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';

/** A cell: a string (shared), a number, or a formula with its cached value. */
export type CellSpec = string | number | { f: string; v: number | string } | null;
export interface SheetSpec {
  name: string;
  rows: CellSpec[][];
  merges?: string[];
  hidden?: boolean;
}

const col = (i: number): string =>
  (i >= 26 ? col(Math.floor(i / 26) - 1) : '') + String.fromCharCode(65 + (i % 26));

/** An XLSX with shared strings, numbers, cached formula values and merged ranges. */
export function makeXlsx(
  sheets: SheetSpec[],
  extra: Record<string, string | Uint8Array> = {},
  stored: Record<string, string> = {},
): Uint8Array {
  const strings: string[] = [];
  const sid = (s: string): number => {
    const at = strings.indexOf(s);
    return at >= 0 ? at : strings.push(s) - 1;
  };
  const parts: Record<string, string | Uint8Array> = {
    '[Content_Types].xml': `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
    '_rels/.rels': rels([['rId1', 'officeDocument', 'xl/workbook.xml']]),
    'xl/workbook.xml': `${XML}<workbook ${S}><sheets>${sheets.map((s, i) => `<sheet name="${s.name}" sheetId="${i + 1}" r:id="rId${i + 1}"${s.hidden ? ' state="hidden"' : ''}/>`).join('')}</sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': rels([
      ...sheets.map((_, i): [string, string, string] => [
        `rId${i + 1}`,
        'worksheet',
        `worksheets/sheet${i + 1}.xml`,
      ]),
      ['rIdS', 'sharedStrings', 'sharedStrings.xml'],
    ]),
  };
  sheets.forEach((sheet, i) => {
    const rows = sheet.rows
      .map((r, ri) => {
        const cells = r
          .map((c, ci) => {
            const ref = `${col(ci)}${ri + 1}`;
            if (c === null) return '';
            if (typeof c === 'number') return `<c r="${ref}"><v>${c}</v></c>`;
            if (typeof c === 'string') return `<c r="${ref}" t="s"><v>${sid(c)}</v></c>`;
            return `<c r="${ref}"${typeof c.v === 'string' ? ' t="str"' : ''}><f>${c.f}</f><v>${c.v}</v></c>`;
          })
          .join('');
        return `<row r="${ri + 1}">${cells}</row>`;
      })
      .join('');
    const merges = sheet.merges?.length
      ? `<mergeCells>${sheet.merges.map((m) => `<mergeCell ref="${m}"/>`).join('')}</mergeCells>`
      : '';
    parts[`xl/worksheets/sheet${i + 1}.xml`] =
      `${XML}<worksheet ${S}><sheetData>${rows}</sheetData>${merges}</worksheet>`;
  });
  parts['xl/sharedStrings.xml'] =
    `${XML}<sst ${S} count="${strings.length}">${strings.map((s) => `<si><t>${s}</t></si>`).join('')}</sst>`;
  return zip({ ...parts, ...extra }, stored);
}

const ODF_NS =
  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"';

/** An ODF package (ODT/ODS/ODP) whose office:body holds `body`. */
export function makeOdf(mime: string, body: string, title = 'Test document', prolog = ''): Uint8Array {
  return zip({
    mimetype: mime,
    'META-INF/manifest.xml': `${XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>`,
    'content.xml': `${XML}${prolog}<office:document-content ${ODF_NS}><office:automatic-styles><text:list-style style:name="L1" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"><text:list-level-style-number text:level="1" style:num-format="1"/></text:list-style></office:automatic-styles><office:body>${body}</office:body></office:document-content>`,
    'meta.xml': `${XML}<office:document-meta ${ODF_NS}><office:meta><dc:title>${title}</dc:title><dc:creator>Ada Author</dc:creator><dc:language>en-GB</dc:language></office:meta></office:document-meta>`,
  });
}

/** An EPUB 3 with the given chapters (title and XHTML body), listed in the nav document in order. */
export function makeEpub(
  chapters: Array<{ title: string; body: string }>,
  meta = { title: 'A Book', author: 'Ann Writer', language: 'en' },
  doctype = '<!DOCTYPE html>',
): Uint8Array {
  const xhtml = (title: string, body: string): string =>
    `${XML}${doctype}<html xmlns="http://www.w3.org/1999/xhtml"><head><title>${title}</title></head><body>${body}</body></html>`;
  const parts: Record<string, string> = {
    mimetype: 'application/epub+zip',
    'META-INF/container.xml': `${XML}<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`,
    'OEBPS/content.opf': `${XML}<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${meta.title}</dc:title><dc:creator>${meta.author}</dc:creator><dc:language>${meta.language}</dc:language></metadata><manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>${chapters
      .map((_, i) => `<item id="c${i}" href="text/c${i}.xhtml" media-type="application/xhtml+xml"/>`)
      .join('')}</manifest><spine>${chapters
      .map((_, i) => `<itemref idref="c${i}"/>`)
      .join('')}</spine></package>`,
    'OEBPS/nav.xhtml': xhtml(
      'Contents',
      `<nav epub:type="toc" xmlns:epub="http://www.idpf.org/2007/ops"><ol>${chapters.map((c, i) => `<li><a href="text/c${i}.xhtml">${c.title}</a></li>`).join('')}</ol></nav>`,
    ),
  };
  chapters.forEach((c, i) => {
    parts[`OEBPS/text/c${i}.xhtml`] = xhtml(c.title, c.body);
  });
  return zip(parts);
}
