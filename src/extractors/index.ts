// The extractor registry: an explicit list, so a reader sees every format in one
// place (test/unit/extractors/registry.test.ts fails when a plugin file is missing here).
// The registry picks by sniffed content type, never by file extension.
import { SluiceError } from '../errors.ts';
import { docxExtractor } from './docx.ts';
import { htmlExtractor } from './html.ts';
import { markdownExtractor } from './markdown.ts';
import { pdfExtractor } from './pdf.ts';
import { textExtractor } from './text.ts';
import type { Extractor } from './types.ts';

export const EXTRACTORS: readonly Extractor[] = [
  pdfExtractor,
  docxExtractor,
  htmlExtractor,
  markdownExtractor,
  textExtractor,
];

/** The extractor for a sniffed content type, or UNSUPPORTED_TYPE. */
export function pickExtractor(mime: string): Extractor {
  const found = EXTRACTORS.find((e) => e.mimeTypes.includes(mime));
  if (!found) throw new SluiceError('UNSUPPORTED_TYPE', `no extractor for content type ${mime}`);
  return found;
}
