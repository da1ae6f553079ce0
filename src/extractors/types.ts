// The extractor contract: bytes plus a sniffed content type in, text with
// structure out. Extractors never open paths, so folder and bucket sources share
// them, and they know nothing of queues or databases.
import type { OcrOptions } from './pdf-ocr.ts';

/** Limits applied to every parse of untrusted bytes. */
export interface ExtractLimits {
  /** Upper bound on input bytes (already enforced before extraction, re-checked here). */
  maxBytes: number;
  /** Upper bound on pages for paged formats (PDF). */
  maxPages: number;
  /** Upper bound on bytes inflated from containers (DOCX/ZIP entries). */
  maxDecompressedBytes: number;
  /** Largest compression ratio accepted for a container entry (zip-bomb guard). */
  maxCompressionRatio: number;
  /** Largest number of characters of text an extractor may return. */
  maxTextChars: number;
  /** OCR for PDF pages without a text layer (SLUICE_OCR=auto); absent = off. */
  ocr?: OcrOptions;
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxBytes: 100 * 1024 * 1024,
  maxPages: 5_000,
  maxDecompressedBytes: 512 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxTextChars: 50_000_000,
};

export interface ExtractInput {
  bytes: Uint8Array;
  /** Content type as sniffed from the bytes (see sniff.ts). */
  mime: string;
  /** Original file name, a hint only (never trusted for type). */
  filename?: string;
  limits: ExtractLimits;
  signal?: AbortSignal;
}

/** A run of text that shares one heading path and page. */
export interface Section {
  text: string;
  /** Headings enclosing this text, outermost first. */
  headingPath?: string[];
  /** 1-based page number for paged formats. */
  page?: number;
  /** 1-based first and last source row of a table block (spreadsheets, CSV); the header row is repeated, not counted. */
  rows?: { start: number; end: number };
  /**
   * Extra JSON-serialisable facts about this text that every chunk drawn from it
   * carries in its metadata (e.g. `ocr: true`, an e-mail's `from`/`subject`).
   */
  metadata?: Record<string, unknown>;
}

export interface ExtractedDocument {
  title?: string;
  /** Format metadata (front matter, PDF info, charset...). JSON-serialisable. */
  metadata: Record<string, unknown>;
  /** Document text in reading order. Sections are joined with a blank line by the chunker. */
  sections: Section[];
}

export interface Extractor {
  name: string;
  /** Bump when output changes so checkpoints made by older versions are not reused. */
  version: number;
  mimeTypes: readonly string[];
  extract(input: ExtractInput): Promise<ExtractedDocument>;
}
