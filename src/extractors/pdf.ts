// PDF extractor: text per page in reading order, with page numbers, PDF metadata and
// coded failures (ENCRYPTED, NO_TEXT, CORRUPT_FILE, TOO_LARGE). pdf-parse v2 loads
// the document; we walk pages on the pdf.js document it holds, because its own
// getText() neither exposes item positions (needed for column order) nor survives a
// single bad page. Going through pdf-parse keeps one pdf.js copy in the process (a
// second pdfjs-dist fails with a version mismatch) and follows its security updates.
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { SluiceError } from '../errors.ts';
import { normalisePdfText, type PageLine, type PositionedItem, readingOrder } from './pdf-layout.ts';
import { type OcrPage, ocrMissingPages } from './pdf-ocr.ts';
import { outlineSections, type PdfOutlineSource, readOutline } from './pdf-outline.ts';
import type { ExtractedDocument, ExtractInput, Extractor } from './types.ts';

/** Options for {@link createPdfExtractor}. */
export interface PdfExtractorOptions {
  /** Share of pages a top/bottom line must repeat on to count as running header/footer. */
  headerFooterShare?: number;
}

// The slice of the pdf.js API we use, typed here so pdfjs-dist (a dependency of
// pdf-parse, not ours) never leaks into our module boundary.
interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
}
interface PdfPage {
  getViewport(opts: { scale: number }): { transform: number[] };
  getTextContent(opts: {
    disableNormalization: boolean;
  }): Promise<{ items: ReadonlyArray<PdfTextItem | { type: string }> }>;
  cleanup(): void;
}
interface PdfDoc extends PdfOutlineSource {
  numPages: number;
  getPage(n: number): Promise<PdfPage & OcrPage>;
  getMetadata(): Promise<{ info: unknown }>;
}
type PdfParser = { destroy(): Promise<void> };

/**
 * Identity of a candidate running line: its text and rough position. Digits are masked
 * (page numbers change) only in short lines, so body lines that differ just by a
 * number ("Section 3 line 1 ...") are not mistaken for a running header.
 */
function lineKey(l: PageLine): string {
  const text = l.text.toLowerCase().replace(/\s+/g, ' ').trim();
  return `${text.length <= 40 ? text.replace(/\d+/g, '#') : text}@${Math.round(l.top / 12)}`;
}

/** Drop lines at the top or bottom of pages that repeat (digits aside) on most pages. */
export function removeRunningLines(pages: PageLine[][], share: number): PageLine[][] {
  const withText = pages.filter((p) => p.length > 0).length;
  if (withText < 3) return pages;
  const edges = pages.map((lines) => {
    const byTop = [...lines].sort((a, b) => a.top - b.top);
    return new Set([...byTop.slice(0, 2), ...byTop.slice(-2)]);
  });
  const counts = new Map<string, number>();
  for (const edge of edges) {
    for (const key of new Set([...edge].map(lineKey))) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const min = Math.max(3, Math.ceil(share * withText));
  return pages.map((lines, i) =>
    lines.filter((l) => !(edges[i]?.has(l) && (counts.get(lineKey(l)) ?? 0) >= min)),
  );
}

/** PDF date (`D:YYYYMMDDHHmmSS+HH'mm'`) to ISO 8601, or undefined. */
export function pdfDate(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const m = /^(?:D:)?(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?([Zz+-])?(\d\d)?'?(\d\d)?/.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, oh = '00', om = '00'] = m;
  const zone = sign === '+' || sign === '-' ? `${sign}${oh}:${om}` : 'Z';
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The first prominent line of the first page with text (title fallback). */
function headingLike(pages: readonly PageLine[][]): string | undefined {
  const first = pages.find((p) => p.length > 0);
  if (!first) return undefined;
  const sizes = first.map((l) => l.size).sort((a, b) => a - b);
  const median = sizes[Math.floor(sizes.length / 2)] ?? 0;
  const candidates = first
    .slice(0, 15)
    .filter((l) => l.text.trim().length >= 3 && l.text.length <= 200 && /\p{L}/u.test(l.text));
  const big = candidates.filter((l) => l.size >= 1.15 * median).sort((a, b) => b.size - a.size)[0];
  return (big ?? candidates[0])?.text.trim();
}

function positioned(items: ReadonlyArray<PdfTextItem | { type: string }>, m: number[]): PositionedItem[] {
  const [a = 1, b = 0, c = 0, d = 1, e = 0, f = 0] = m;
  const out: PositionedItem[] = [];
  for (const it of items) {
    if (!('str' in it)) continue;
    const [ta = 1, tb = 0, tc = 0, td = 0, tx = 0, ty = 0] = it.transform;
    const dx = a * ta + c * tb;
    const dy = b * ta + d * tb;
    out.push({
      str: it.str,
      x: a * tx + c * ty + e,
      y: b * tx + d * ty + f,
      width: it.width,
      size: Math.hypot(a * tc + c * td, b * tc + d * td),
      vertical: Math.abs(dy) > Math.abs(dx),
    });
  }
  return out;
}

const infoString = (info: Record<string, unknown>, key: string): string | undefined => {
  const v = info[key];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
};

/**
 * The character maps shipped with the pdf.js that pdf-parse bundles. CJK PDFs that use
 * predefined CMaps (UniJIS-UTF16-V…) yield no text without them. They are read from
 * the installed package, never from a location the document chooses.
 */
function bundledCMapDir(): string | undefined {
  try {
    const fromPdfParse = createRequire(createRequire(import.meta.url).resolve('pdf-parse'));
    return join(dirname(fromPdfParse.resolve('pdfjs-dist/package.json')), 'cmaps') + sep;
  } catch {
    return undefined;
  }
}

async function open(bytes: Uint8Array): Promise<{ parser: PdfParser; doc: PdfDoc }> {
  const { PDFParse } = await import('pdf-parse');
  const cMapUrl = bundledCMapDir();
  const parser = new PDFParse({
    // pdf.js transfers/detaches the buffer it is given; keep the caller's bytes intact.
    data: new Uint8Array(bytes),
    isEvalSupported: false, // CVE-2024-4367: never compile font programs to JS
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    enableXfa: false,
    isOffscreenCanvasSupported: false,
    verbosity: 0,
    ...(cMapUrl ? { cMapUrl, cMapPacked: true } : {}),
  });
  try {
    // load() is private in pdf-parse's typings but is the documented way getText/getInfo
    // obtain the pdf.js document; it maps pdf.js errors to named exceptions.
    const doc = await (parser as unknown as { load(): Promise<PdfDoc> }).load();
    return { parser, doc };
  } catch (err) {
    await parser.destroy().catch(() => {});
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'PasswordException') {
      throw new SluiceError(
        'ENCRYPTED',
        'PDF is encrypted with a user password; save an unprotected copy (e.g. qpdf --decrypt) and ingest it again',
        { cause: err },
      );
    }
    throw new SluiceError('CORRUPT_FILE', `PDF cannot be opened: ${(err as Error)?.message ?? err}`, {
      cause: err,
    });
  }
}

/** A PDF extractor; pages become sections with `page` set. */
export function createPdfExtractor(options: PdfExtractorOptions = {}): Extractor {
  const share = options.headerFooterShare ?? 0.6;
  return {
    name: 'pdf',
    // 2: heading paths from the outline (bookmarks).
    version: 2,
    mimeTypes: ['application/pdf'],
    async extract({ bytes, limits, signal }: ExtractInput): Promise<ExtractedDocument> {
      if (bytes.byteLength > limits.maxBytes) {
        throw new SluiceError('TOO_LARGE', `PDF is ${bytes.byteLength} bytes, limit ${limits.maxBytes}`);
      }
      signal?.throwIfAborted();
      const { parser, doc } = await open(bytes);
      try {
        const pageCount = doc.numPages;
        if (pageCount > limits.maxPages) {
          throw new SluiceError('TOO_LARGE', `PDF has ${pageCount} pages, limit ${limits.maxPages}`);
        }
        const info = ((await doc.getMetadata().catch(() => ({ info: {} }))).info ?? {}) as Record<
          string,
          unknown
        >;
        const pages: PageLine[][] = [];
        const transforms: Array<number[] | undefined> = [];
        const failedPages: number[] = [];
        let chars = 0;
        for (let n = 1; n <= pageCount; n++) {
          signal?.throwIfAborted();
          try {
            const page = await doc.getPage(n);
            // pdf.js would decompose ligatures before its bidi reversal, which scrambles
            // Arabic lam-alef; we take raw glyph text and normalise after ordering.
            const content = await page.getTextContent({ disableNormalization: true });
            const transform = page.getViewport({ scale: 1 }).transform;
            transforms[n - 1] = transform;
            const lines = readingOrder(positioned(content.items, transform));
            page.cleanup();
            for (const l of lines) l.text = normalisePdfText(l.text);
            chars += lines.reduce((sum, l) => sum + l.text.length, 0);
            if (chars > limits.maxTextChars) {
              throw new SluiceError('TOO_LARGE', `PDF text exceeds ${limits.maxTextChars} characters`);
            }
            pages.push(lines);
          } catch (err) {
            if (err instanceof SluiceError) throw err;
            // A broken page must not sink the document: keep the others, record this one.
            failedPages.push(n);
            pages.push([]);
          }
        }
        if (pageCount > 0 && failedPages.length === pageCount) {
          throw new SluiceError('CORRUPT_FILE', `none of the ${pageCount} PDF pages could be read`);
        }
        const cleaned = removeRunningLines(pages, share);
        // Bookmarks give heading paths; a PDF without them gets one section per page.
        const outline = await readOutline(doc, transforms).catch(() => []);
        const sections = outlineSections(cleaned, outline);
        const ocr = limits.ocr
          ? await ocrMissingPages(doc, sections, pageCount, failedPages, limits.ocr, signal)
          : undefined;
        if (sections.length === 0) {
          throw new SluiceError(
            'NO_TEXT',
            ocr
              ? `PDF has no text layer and OCR found no text in it (pages OCR'd: ${pageCount - ocr.ocrSkippedPages.length}, over the time budget: ${ocr.ocrFailedPages.length})`
              : 'PDF has no text layer (scanned or image-only); set SLUICE_OCR=auto to OCR it, or run ocrmypdf and ingest the result',
          );
        }
        const title = infoString(info, 'Title') ?? headingLike(cleaned);
        const metadata = {
          title: infoString(info, 'Title') ?? null,
          author: infoString(info, 'Author') ?? null,
          creationDate: pdfDate(info['CreationDate']) ?? null,
          pageCount,
          failedPages,
          ...ocr,
        };
        return { ...(title ? { title } : {}), metadata, sections };
      } finally {
        await parser.destroy().catch(() => {});
      }
    },
  };
}

/** The default PDF extractor registered in index.ts. */
export const pdfExtractor: Extractor = createPdfExtractor();
