// text/plain: decode (BOM, UTF-8, UTF-16, legacy code pages) and return one
// section. Splitting is the chunker's job; this only turns bytes into a string.
import { finishDocument, readTextInput } from './text-input.ts';
import type { Extractor } from './types.ts';

/** Plain-text extractor; metadata records the detected charset. */
export const textExtractor: Extractor = {
  name: 'text',
  version: 1,
  mimeTypes: ['text/plain'],
  async extract(input) {
    const { text, charset } = readTextInput(input);
    return finishDocument({ metadata: { charset }, sections: [{ text }] }, input.limits);
  },
};
