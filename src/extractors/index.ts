// The extractor registry: an explicit list, so a reader sees every format in one
// place (test/unit/extractors/registry.test.ts fails when a plugin file is missing here).
// The registry picks by sniffed content type, never by file extension.
import { SluiceError } from '../errors.ts';
import { csvExtractor } from './csv.ts';
import { docxExtractor } from './docx.ts';
import { emlExtractor } from './eml.ts';
import { epubExtractor } from './epub.ts';
import { htmlExtractor } from './html.ts';
import { markdownExtractor } from './markdown.ts';
import { msgExtractor } from './msg.ts';
import { odpExtractor } from './odp.ts';
import { odsExtractor } from './ods.ts';
import { odtExtractor } from './odt.ts';
import { encryptedError } from './ooxml.ts';
import { pdfExtractor } from './pdf.ts';
import { pptxExtractor } from './pptx.ts';
import { rtfExtractor } from './rtf.ts';
import { textExtractor } from './text.ts';
import type { Extractor } from './types.ts';
import { xlsxExtractor } from './xlsx.ts';

export const EXTRACTORS: readonly Extractor[] = [
  pdfExtractor,
  docxExtractor,
  htmlExtractor,
  markdownExtractor,
  textExtractor,
  pptxExtractor,
  xlsxExtractor,
  csvExtractor,
  epubExtractor,
  odtExtractor,
  odsExtractor,
  odpExtractor,
  rtfExtractor,
  emlExtractor,
  msgExtractor,
];

/** What a user can do about formats sluice recognises but does not read. */
const HINTS: Record<string, string> = {
  'application/msword':
    'legacy Word (.doc) files are not supported; save the file as .docx and ingest it again',
  'application/zip': 'ZIP archives are not unpacked; extract the files and ingest them',
  'application/vnd.ms-excel':
    'legacy Excel (.xls) files are not supported; save the file as .xlsx (or export it as .csv) and ingest it again',
  'application/vnd.ms-powerpoint':
    'legacy PowerPoint (.ppt) files are not supported; save the file as .pptx and ingest it again',
  'application/octet-stream':
    'the bytes match no known format (binary data or an unknown file type); convert the file to PDF, DOCX or plain text',
};
/** Names for content types users meet; others are named by their content type. */
const NAMES: Record<string, string> = {
  'application/msword': 'legacy Word document (.doc)',
  'application/vnd.ms-excel': 'legacy Excel workbook (.xls)',
  'application/vnd.ms-powerpoint': 'legacy PowerPoint presentation (.ppt)',
  'application/zip': 'ZIP archive',
  'application/octet-stream': 'unrecognised binary data',
};
/** What every unsupported type is told: the formats that are read. */
const SUPPORTED =
  'sluice reads PDF, DOCX, PPTX, XLSX, ODT, ODS, ODP, EPUB, RTF, HTML, Markdown, CSV/TSV and plain text; convert the file to one of these and ingest it again';

/** The extractor for a sniffed content type, or UNSUPPORTED_TYPE. */
export function pickExtractor(mime: string): Extractor {
  const found = EXTRACTORS.find((e) => e.mimeTypes.includes(mime));
  if (!found) {
    if (mime === 'application/x-encrypted-office')
      throw encryptedError('Office document (DOCX, XLSX or PPTX)');
    const name =
      NAMES[mime] ??
      `${mime
        .split('/')[1]
        ?.replace(/^(x-|vnd\.)/, '')
        .toUpperCase()} file`;
    throw new SluiceError(
      'UNSUPPORTED_TYPE',
      `no extractor for content type ${mime} (${name}): ${HINTS[mime] ?? SUPPORTED}`,
    );
  }
  return found;
}
