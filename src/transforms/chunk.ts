// Chunking: a cleaned document → ordered chunks with offsets, heading path and
// pages. Consecutive sections that share a heading path are split together with
// LangChain's RecursiveCharacterTextSplitter; a new heading path starts a new chunk,
// so a chunk never straddles two headings. Offsets refer to the sections joined
// with "\n\n" (the document text as stored), so a chunk can be located and quoted.
//
// Token limits: calling a tokenizer on every candidate piece makes the splitter
// ~150x slower (LangChain's splitter with a tiktoken length function), so chunks
// are cut by characters first, each produced chunk is tokenised once (its real
// tokenCount), and only the few over `maxTokens` are cut again, smaller.
import { createHash } from 'node:crypto';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { SluiceError } from '../errors.ts';
import type { ExtractedDocument } from '../extractors/types.ts';

/** Separator placed between sections in the joined document text. */
export const SECTION_SEPARATOR = '\n\n';

export interface ChunkOptions {
  /** Target chunk length, in `lengthFunction` units (characters by default). */
  size: number;
  /** Length shared by consecutive chunks, same unit as `size`; must be < size. */
  overlap: number;
  /** Measures a piece of text for `size`/`overlap`; defaults to string length. */
  lengthFunction?: (s: string) => number;
  /** Name of the unit `lengthFunction` measures (e.g. "tiktoken:cl100k_base"); part of the fingerprint. */
  lengthUnit?: string;
  /** Token counter for `tokenCount` and `maxTokens`; defaults to `estimateTokens`. */
  countTokens?: (s: string) => number;
  /** Name of the tokenizer behind `countTokens` (e.g. "cl100k_base"); part of the fingerprint. */
  tokenizer?: string;
  /** No chunk may count more tokens than this (the embedder's input limit), whatever `size` says. */
  maxTokens?: number;
}

export interface ChunkMetadata {
  /** Offset of the chunk's first character in the joined document text. */
  charStart: number;
  /** Offset just past the chunk's last character. */
  charEnd: number;
  /** Heading path of the section where the chunk starts (outermost first). */
  headingPath: string[];
  /** Lowest page the chunk touches; only for paged sources. */
  pageStart?: number;
  /** Highest page the chunk touches; only for paged sources. */
  pageEnd?: number;
  /** First source row the chunk covers; only for tables (spreadsheets, CSV). */
  rowStart?: number;
  /** Last source row the chunk covers; only for tables. */
  rowEnd?: number;
  /** Section metadata of the sections the chunk touches (see Section.metadata), merged in order. */
  extra?: Record<string, unknown>;
}

export interface Chunk {
  /** 0-based position in the document, contiguous. */
  ordinal: number;
  text: string;
  /** sha256 hex of `text`: the embedding-cache key. */
  contentHash: string;
  tokenCount: number;
  metadata: ChunkMetadata;
}

/** Token estimate without a tokenizer: about four characters per token for English BPE vocabularies. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** A stable description of the chunking settings, used in checkpoint keys. */
export function chunkFingerprint(opts: ChunkOptions): string {
  const unit =
    opts.lengthUnit ?? (opts.lengthFunction ? `fn:${opts.lengthFunction.name || 'anonymous'}` : 'chars');
  const base = `recursive-v1;size=${opts.size};overlap=${opts.overlap};unit=${unit};sep=${JSON.stringify(SECTION_SEPARATOR)}`;
  if (opts.tokenizer === undefined && opts.maxTokens === undefined) return base;
  return `${base};tokens=${opts.tokenizer ?? 'estimate'};max=${opts.maxTokens ?? '-'}`;
}

interface Span {
  start: number;
  end: number;
  headingPath: string[];
  page: number | undefined;
  rows?: { start: number; end: number } | undefined;
  metadata: Record<string, unknown> | undefined;
}

/** Split a document into chunks (see the file header). */
export async function chunkDocument(doc: ExtractedDocument, opts: ChunkOptions): Promise<Chunk[]> {
  validate(opts);
  const spans: Span[] = [];
  let offset = 0;
  for (const section of doc.sections) {
    const start = spans.length === 0 ? 0 : offset + SECTION_SEPARATOR.length;
    spans.push({
      start,
      end: start + section.text.length,
      headingPath: section.headingPath ?? [],
      page: section.page,
      rows: section.rows,
      metadata: section.metadata,
    });
    offset = start + section.text.length;
  }
  const joined = doc.sections.map((s) => s.text).join(SECTION_SEPARATOR);
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: opts.size,
    chunkOverlap: opts.overlap,
    ...(opts.lengthFunction ? { lengthFunction: opts.lengthFunction } : {}),
  });
  const countTokens = opts.countTokens ?? estimateTokens;
  const measure = opts.lengthFunction ?? ((t: string) => t.length);
  const chunks: Chunk[] = [];
  let first = 0;
  while (first < spans.length) {
    let last = first;
    const key = JSON.stringify(spans[first]!.headingPath);
    while (last + 1 < spans.length && JSON.stringify(spans[last + 1]!.headingPath) === key) last++;
    const groupStart = spans[first]!.start;
    const groupText = joined.slice(groupStart, spans[last]!.end);
    for (const piece of locate(groupText, await splitter.splitText(groupText), opts.overlap, measure)) {
      for (const part of await fitTokens(piece.text, countTokens(piece.text), opts, countTokens, 0)) {
        const charStart = groupStart + piece.at + part.at;
        const charEnd = charStart + part.text.length;
        chunks.push({
          ordinal: chunks.length,
          text: part.text,
          contentHash: createHash('sha256').update(part.text).digest('hex'),
          tokenCount: part.tokens,
          metadata: metadataFor(spans, first, last, charStart, charEnd),
        });
      }
    }
    first = last + 1;
  }
  return chunks;
}

interface Located {
  text: string;
  /** Offset of `text` in the string it was split from. */
  at: number;
}

/** Where each split piece sits in `text`, in order, even when pieces repeat. */
function locate(text: string, pieces: string[], overlap: number, measure: (s: string) => number): Located[] {
  const out: Located[] = [];
  let from = 0;
  let prevEnd = 0;
  for (const piece of pieces) {
    // Search forward from the previous piece, and skip occurrences that would overlap
    // the previous piece by more than `overlap`, so repeated text maps to the right place.
    let at = text.indexOf(piece, from);
    while (at >= 0 && at < prevEnd && measure(text.slice(at, prevEnd)) > overlap) {
      at = text.indexOf(piece, at + 1);
    }
    if (at < 0) at = Math.max(from, Math.min(prevEnd, text.length - piece.length));
    from = at + 1;
    prevEnd = at + piece.length;
    out.push({ text: piece, at });
  }
  return out;
}

const MAX_REFIT_DEPTH = 12;

/**
 * A piece within `maxTokens` is returned as is. An over-limit piece is split
 * again by characters, with the size scaled by how far it overshot (10% headroom),
 * and only the resulting parts are tokenised. A part that no split can bring
 * under the limit is returned as is; the embed stage then fails it with
 * INPUT_TOO_LONG or truncates it (SLUICE_EMBED_TRUNCATE).
 */
async function fitTokens(
  text: string,
  tokens: number,
  opts: ChunkOptions,
  count: (s: string) => number,
  depth: number,
): Promise<Array<Located & { tokens: number }>> {
  const max = opts.maxTokens;
  if (max === undefined || tokens <= max || text.length <= 1 || depth >= MAX_REFIT_DEPTH) {
    return [{ text, at: 0, tokens }];
  }
  const size = Math.max(1, Math.min(text.length - 1, Math.floor(((text.length * max) / tokens) * 0.9)));
  const overlap = Math.min(size - 1, Math.floor((opts.overlap * size) / opts.size));
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: size,
    chunkOverlap: Math.max(0, overlap),
  });
  const out: Array<Located & { tokens: number }> = [];
  for (const part of locate(text, await splitter.splitText(text), overlap, (s) => s.length)) {
    for (const sub of await fitTokens(part.text, count(part.text), opts, count, depth + 1)) {
      out.push({ ...sub, at: part.at + sub.at });
    }
  }
  return out;
}

function metadataFor(
  spans: Span[],
  first: number,
  last: number,
  charStart: number,
  charEnd: number,
): ChunkMetadata {
  const meta: ChunkMetadata = { charStart, charEnd, headingPath: [...spans[first]!.headingPath] };
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  // Binary search for the first span ending after charStart, then walk the overlap.
  let a = first;
  let b = last;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (spans[mid]!.end <= charStart) a = mid + 1;
    else b = mid;
  }
  for (let i = a; i <= last && spans[i]!.start < charEnd; i++) {
    const extra = spans[i]!.metadata;
    if (extra) meta.extra = { ...meta.extra, ...extra };
    const page = spans[i]!.page;
    if (page === undefined) continue;
    lo = Math.min(lo, page);
    hi = Math.max(hi, page);
  }
  if (lo !== Number.POSITIVE_INFINITY) {
    meta.pageStart = lo;
    meta.pageEnd = hi;
  }
  Object.assign(meta, rowRange(spans, a, last, charEnd));
  return meta;
}

/** Row range of the table blocks a chunk overlaps (spans a..last, up to charEnd). */
function rowRange(spans: Span[], a: number, last: number, charEnd: number): Partial<ChunkMetadata> {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = a; i <= last && spans[i]!.start < charEnd; i++) {
    const rows = spans[i]!.rows;
    if (!rows) continue;
    lo = Math.min(lo, rows.start);
    hi = Math.max(hi, rows.end);
  }
  return lo === Number.POSITIVE_INFINITY ? {} : { rowStart: lo, rowEnd: hi };
}

function validate(opts: ChunkOptions): void {
  const ok =
    Number.isInteger(opts.size) && opts.size > 0 && Number.isInteger(opts.overlap) && opts.overlap >= 0;
  const maxOk = opts.maxTokens === undefined || (Number.isInteger(opts.maxTokens) && opts.maxTokens > 0);
  if (!ok || !maxOk || opts.overlap >= opts.size) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `chunk size and token limit must be positive integers and overlap an integer in [0, size); got size=${opts.size} overlap=${opts.overlap} maxTokens=${opts.maxTokens ?? '-'}`,
    );
  }
}
