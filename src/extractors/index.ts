// The extractor registry: an explicit list, so a reader sees every format in one
// place (test/unit/extractors/registry.test.ts fails when a plugin file is missing here).
// The registry picks by sniffed content type, never by file extension.
import { SluiceError } from '../errors.ts';
import { docxExtractor } from './docx.ts';
import { emlExtractor } from './eml.ts';
import { htmlExtractor } from './html.ts';
import { markdownExtractor } from './markdown.ts';
import { msgExtractor } from './msg.ts';
import { pdfExtractor } from './pdf.ts';
import { textExtractor } from './text.ts';
import type { Extractor } from './types.ts';

export const EXTRACTORS: readonly Extractor[] = [
  pdfExtractor,
  docxExtractor,
  htmlExtractor,
  markdownExtractor,
  textExtractor,
  emlExtractor,
  msgExtractor,
];

/** What a user can do about formats sluice recognises but does not read. */
const HINTS: Record<string, string> = {
  'application/msword':
    'legacy Word (.doc) files are not supported; save the file as .docx and ingest it again',
  'application/zip': 'ZIP archives are not unpacked; extract the files and ingest them',
};

/** The extractor for a sniffed content type, or UNSUPPORTED_TYPE. */
export function pickExtractor(mime: string): Extractor {
  const found = EXTRACTORS.find((e) => e.mimeTypes.includes(mime));
  if (!found) {
    const hint = HINTS[mime];
    throw new SluiceError(
      'UNSUPPORTED_TYPE',
      `no extractor for content type ${mime}${hint ? `: ${hint}` : ''}`,
    );
  }
  return found;
}
