// Shared guards for the text-format extractors (plain, Markdown, HTML): input size
// and cancellation before parsing, decoding, and the output checks after it, so
// each extractor file holds only its format's logic.
import { SluiceError } from '../errors.ts';
import { decodeText } from './charset.ts';
import { textHead } from './sniff.ts';
import type { ExtractedDocument, ExtractInput, ExtractLimits } from './types.ts';

/** Throw if `signal` is aborted: TIMEOUT for a timeout, else the abort reason itself. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    throw new SluiceError('TIMEOUT', 'extraction timed out', { cause: reason });
  }
  throw reason instanceof Error ? reason : new DOMException('extraction aborted', 'AbortError');
}

/** Cancellation and the input size limit, checked before any parsing. */
export function checkInput(input: ExtractInput): void {
  checkAborted(input.signal);
  const { bytes, limits } = input;
  if (bytes.length > limits.maxBytes) {
    throw new SluiceError(
      'TOO_LARGE',
      `input is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`,
    );
  }
}

/** Check limits and cancellation, then decode the input bytes to text. */
export function readTextInput(input: ExtractInput, hint?: string): { text: string; charset: string } {
  checkInput(input);
  const { bytes } = input;
  if (bytes.length === 0) throw new SluiceError('NO_TEXT', 'input is empty');
  if (textHead(bytes.subarray(0, 65_536)) === undefined) {
    throw new SluiceError('CORRUPT_FILE', 'input is binary (too many control bytes), not text');
  }
  return decodeText(bytes, hint);
}

/** Enforce `maxTextChars` and require some non-blank text. */
export function finishDocument(doc: ExtractedDocument, limits: ExtractLimits): ExtractedDocument {
  let chars = 0;
  const sections = [];
  for (const section of doc.sections) {
    chars += section.text.length;
    if (chars > limits.maxTextChars) {
      throw new SluiceError('TOO_LARGE', `extracted text exceeds the ${limits.maxTextChars}-character limit`);
    }
    if (/\S/.test(section.text)) sections.push(section);
  }
  if (sections.length === 0) throw new SluiceError('NO_TEXT', 'no text found in the document');
  return { ...doc, sections };
}
