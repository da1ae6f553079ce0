// Shared helpers for the Office/ODF/EPUB extractor tests: run an extractor, get an
// error code, join text, and chunk a document the way the pipeline does.

import { DEFAULT_LIMITS, type ExtractedDocument, type Extractor } from '../../../src/extractors/types.ts';
import { type Chunk, chunkDocument } from '../../../src/transforms/chunk.ts';
import { cleanDocument } from '../../../src/transforms/clean.ts';

export const run = (e: Extractor, bytes: Uint8Array, limits = DEFAULT_LIMITS): Promise<ExtractedDocument> =>
  e.extract({ bytes, mime: e.mimeTypes[0]!, limits });

export const codeOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );

export const allText = (d: ExtractedDocument): string => d.sections.map((s) => s.text).join('\n\n');

/** Chunks as the pipeline makes them (clean, then the default 1,000/150 character chunking). */
export const chunksOf = (d: ExtractedDocument, size = 1000, overlap = 150): Promise<Chunk[]> =>
  chunkDocument(cleanDocument(d), { size, overlap });
