// Chunking: a cleaned document → ordered chunks with offsets, heading path and
// pages. Sections are first grouped (chunk-groups.ts): one heading path per group,
// small groups merged into a neighbour in the same outline branch, heading-only
// sections joined to the text they introduce, link-reference definitions dropped.
// Each group is split with LangChain's RecursiveCharacterTextSplitter, so a chunk
// never straddles two unrelated headings. Offsets refer to the sections joined with
// "\n\n" (the document text as stored), so a chunk can be located and quoted.
//
// Each chunk is embedded with its document title and heading path in front
// (`embedText`), so it is found by the section it sits in; `text` stays the plain
// chunk text, and `metadata.embedContext` records what was added. `contentHash` is
// the hash of what is embedded: the embedding-cache key.
//
// Token limits: calling a tokenizer on every candidate piece makes the splitter
// ~150x slower (LangChain's splitter with a tiktoken length function), so chunks
// are cut by characters first, each produced chunk is tokenised once (its real
// tokenCount), and only the few over `maxTokens` are cut again, smaller.
import { createHash } from 'node:crypto';
import { SluiceError } from '../errors.ts';
import type { ExtractedDocument } from '../extractors/types.ts';
import { type Group, groupSegments, type Segment, segmentsOf } from './chunk-groups.ts';

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
  /** Sections shorter than this (`lengthFunction` units) merge into a neighbour; default size / 5. */
  minSize?: number;
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
  /** Document title and heading path embedded in front of the text; absent when there are none. */
  embedContext?: string;
}

export interface Chunk {
  /** 0-based position in the document, contiguous. */
  ordinal: number;
  text: string;
  /** What the embedder gets: `embedContext`, a blank line, `text`; absent when there is no context. */
  embedText?: string;
  /** sha256 hex of the embedded text (`embedText ?? text`): the embedding-cache key. */
  contentHash: string;
  /** Tokens of the embedded text (context included). */
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
  const base = `recursive-v2;size=${opts.size};overlap=${opts.overlap};min=${minSizeOf(opts)};unit=${unit};sep=${JSON.stringify(SECTION_SEPARATOR)};context=title+headings`;
  if (opts.tokenizer === undefined && opts.maxTokens === undefined) return base;
  return `${base};tokens=${opts.tokenizer ?? 'estimate'};max=${opts.maxTokens ?? '-'}`;
}

/** Split a document into chunks (see the file header). */
export async function chunkDocument(doc: ExtractedDocument, opts: ChunkOptions): Promise<Chunk[]> {
  validate(opts);
  const { RecursiveCharacterTextSplitter } = await import('@langchain/textsplitters');
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: opts.size,
    chunkOverlap: opts.overlap,
    ...(opts.lengthFunction ? { lengthFunction: opts.lengthFunction } : {}),
  });
  const countTokens = opts.countTokens ?? estimateTokens;
  const measure = opts.lengthFunction ?? ((t: string) => t.length);
  const segments = segmentsOf(doc.sections, SECTION_SEPARATOR);
  const chunks: Chunk[] = [];
  for (const group of groupSegments(segments, measure, minSizeOf(opts))) {
    const context = embeddingContext(doc.title, group.headingPath);
    const contextTokens = context ? countTokens(`${context}${CONTEXT_SEPARATOR}`) : 0;
    // The context is sent with every chunk: leave room for it under the model's limit.
    const fitOpts =
      opts.maxTokens === undefined
        ? opts
        : { ...opts, maxTokens: Math.max(1, opts.maxTokens - contextTokens) };
    const map = offsetMap(group.segments);
    const pieces = locate(map.text, await splitter.splitText(map.text), opts.overlap, measure);
    for (const piece of absorbTiny(map.text, pieces, minSizeOf(opts), measure)) {
      for (const part of await fitTokens(piece.text, countTokens(piece.text), fitOpts, countTokens, 0)) {
        const at = piece.at + part.at;
        const embedded = context ? `${context}${CONTEXT_SEPARATOR}${part.text}` : part.text;
        const charStart = map.toDocument(at, 'start');
        const charEnd = map.toDocument(at + part.text.length, 'end');
        const metadata = metadataFor(group, charStart, charEnd);
        if (context) metadata.embedContext = context;
        chunks.push({
          ordinal: chunks.length,
          text: part.text,
          contentHash: createHash('sha256').update(embedded).digest('hex'),
          tokenCount: part.tokens + contextTokens,
          metadata,
          ...(context ? { embedText: embedded } : {}),
        });
      }
    }
  }
  return chunks;
}

/** Between the context and the chunk text in `embedText`. */
export const CONTEXT_SEPARATOR = '\n\n';
const MAX_CONTEXT_CHARS = 300;

/**
 * "Title › Heading › Subheading" for a chunk, or undefined when there is neither.
 * A title that repeats the first heading (a Markdown H1) is given once.
 */
export function embeddingContext(
  title: string | undefined,
  headingPath: readonly string[],
): string | undefined {
  const parts = headingPath.map((h) => h.replace(/\s+/g, ' ').trim()).filter(Boolean);
  const t = title?.replace(/\s+/g, ' ').trim();
  if (t && parts[0] !== t) parts.unshift(t);
  if (parts.length === 0) return undefined;
  const context = parts.join(' › ');
  return context.length > MAX_CONTEXT_CHARS ? `${context.slice(0, MAX_CONTEXT_CHARS - 1)}…` : context;
}

/** Groups smaller than this merge into a neighbour (a fifth of `size` unless set). */
function minSizeOf(opts: ChunkOptions): number {
  return opts.minSize ?? Math.floor(opts.size / 5);
}

interface OffsetMap {
  /** The group's segments joined with SECTION_SEPARATOR: what the splitter cuts. */
  text: string;
  /** Offset in `text` → offset in the joined document text. */
  toDocument(at: number, edge: 'start' | 'end'): number;
}

function offsetMap(segments: readonly Segment[]): OffsetMap {
  const starts: number[] = [];
  let length = 0;
  for (const [i, seg] of segments.entries()) {
    if (i > 0) length += SECTION_SEPARATOR.length;
    starts.push(length);
    length += seg.text.length;
  }
  return {
    text: segments.map((seg) => seg.text).join(SECTION_SEPARATOR),
    toDocument(at, edge) {
      // Last segment starting at or before `at` (for an end, strictly before it).
      let lo = 0;
      let hi = segments.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (edge === 'start' ? starts[mid]! <= at : starts[mid]! < at) lo = mid;
        else hi = mid - 1;
      }
      const seg = segments[lo]!;
      return Math.min(seg.start + (at - starts[lo]!), edge === 'end' ? seg.end : Number.POSITIVE_INFINITY);
    },
  };
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

/**
 * The splitter cuts at blank lines first, so a short heading or line before a long
 * paragraph can come out alone. A piece under `min` joins the piece after it (or,
 * when last, the one before), taking the text between them, so no chunk is a stray
 * heading. A joined piece may pass `size` by at most `min`; token limits are applied after.
 */
function absorbTiny(text: string, pieces: Located[], min: number, measure: (s: string) => number): Located[] {
  if (pieces.length < 2 || min <= 0) return pieces;
  const out: Located[] = [];
  let carry: Located | undefined;
  for (const [i, piece] of pieces.entries()) {
    let p = piece;
    if (carry) {
      const end = p.at + p.text.length;
      p = carry.at < p.at ? { at: carry.at, text: text.slice(carry.at, end) } : p;
      carry = undefined;
    }
    if (measure(p.text) < min && i < pieces.length - 1) carry = p;
    else out.push(p);
  }
  const last = out.at(-1);
  const before = out.at(-2);
  if (last && before && measure(last.text) < min && before.at <= last.at) {
    out.splice(-2, 2, {
      at: before.at,
      text: text.slice(before.at, Math.max(before.at + before.text.length, last.at + last.text.length)),
    });
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
  const { RecursiveCharacterTextSplitter } = await import('@langchain/textsplitters');
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

function metadataFor(group: Group, charStart: number, charEnd: number): ChunkMetadata {
  const meta: ChunkMetadata = { charStart, charEnd, headingPath: [...group.headingPath] };
  const segs = group.segments;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  // Binary search for the first segment ending after charStart, then walk the overlap.
  let a = 0;
  let b = segs.length - 1;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (segs[mid]!.end <= charStart) a = mid + 1;
    else b = mid;
  }
  for (let i = a; i < segs.length && segs[i]!.start < charEnd; i++) {
    const seg = segs[i]!;
    if (seg.metadata) meta.extra = { ...meta.extra, ...seg.metadata };
    if (seg.page === undefined) continue;
    lo = Math.min(lo, seg.page);
    hi = Math.max(hi, seg.page);
  }
  if (lo !== Number.POSITIVE_INFINITY) {
    meta.pageStart = lo;
    meta.pageEnd = hi;
  }
  Object.assign(meta, rowRange(segs, a, charEnd));
  return meta;
}

/** Row range of the table blocks a chunk overlaps (segments from a, up to charEnd). */
function rowRange(segs: readonly Segment[], a: number, charEnd: number): Partial<ChunkMetadata> {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = a; i < segs.length && segs[i]!.start < charEnd; i++) {
    const rows = segs[i]!.rows;
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
  const minOk = opts.minSize === undefined || (Number.isInteger(opts.minSize) && opts.minSize >= 0);
  if (!ok || !maxOk || !minOk || opts.overlap >= opts.size) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `chunk size and token limit must be positive integers and overlap an integer in [0, size); got size=${opts.size} overlap=${opts.overlap} maxTokens=${opts.maxTokens ?? '-'}`,
    );
  }
}
