// Opt-in OCR for PDF pages without a text layer (SLUICE_OCR=auto). A scanned page is
// almost always one big image XObject, so instead of rendering the page (which would
// need a native canvas build) we take the largest image pdf.js decodes for the page,
// wrap its pixels in a PNM header (which Leptonica reads) and hand it to tesseract.js
// (WebAssembly, no native code). Traineddata comes from the installed
// @tesseract.js-data/<lang> packages, so nothing is downloaded. tesseract.js and the
// data packages are optional dependencies, loaded only when OCR runs.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError } from '../errors.ts';
import { normalisePdfText } from './pdf-layout.ts';
import type { Section } from './types.ts';

/** OCR settings (from SLUICE_OCR_*), carried in ExtractLimits.ocr when OCR is on. */
export interface OcrOptions {
  /** Tesseract language codes, each from an installed @tesseract.js-data/<code> package. */
  langs: string[];
  /** Per-page time budget; a page over it is skipped (listed in ocrFailedPages). */
  pageTimeoutMs: number;
  /** At most this many pages of one document are OCR'd; the rest are listed in ocrSkippedPages. */
  maxPages: number;
}

/** The slice of a pdf.js page this file reads. */
export interface OcrPage {
  getOperatorList(): Promise<{ fnArray: number[]; argsArray: unknown[][] }>;
  objs: { get(id: string, callback: (value: unknown) => void): void };
  commonObjs: { get(id: string, callback: (value: unknown) => void): void };
}

interface DecodedImage {
  width: number;
  height: number;
  kind: number;
  data?: Uint8Array | Uint8ClampedArray;
}

interface TesseractWorker {
  recognize(image: Buffer): Promise<{ data: { text: string; confidence: number } }>;
  terminate(): Promise<unknown>;
}

/** Images larger than this are not OCR'd (a hostile page can declare gigapixels). */
const MAX_PIXELS = 60_000_000;
const require = createRequire(import.meta.url);

/** Workers by language, kept for the life of the extraction thread (starting one takes seconds). */
const workers = new Map<string, Promise<TesseractWorker>>();

/** Throws CONFIG_ERROR naming what to install when OCR is on but its packages are missing. */
export function checkOcrInstalled(langs: readonly string[]): void {
  const missing = ['tesseract.js', ...langs.map((l) => `@tesseract.js-data/${l}`)].filter((pkg) => {
    try {
      require.resolve(pkg);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `SLUICE_OCR=auto needs ${missing.join(', ')}: run npm install ${missing.join(' ')} (or set SLUICE_OCR=off)`,
    );
  }
}

/**
 * OCR one page: the text of its largest image, or undefined when the page has no
 * usable image. The best-scoring language wins when several are configured.
 */
export async function ocrPage(
  page: OcrPage,
  opts: OcrOptions,
): Promise<{ text: string; confidence: number } | undefined> {
  const image = await largestImage(page);
  if (!image) return undefined;
  const pnm = toPnm(image);
  if (!pnm) return undefined;
  let best: { text: string; confidence: number } | undefined;
  for (const lang of opts.langs) {
    const result = await withTimeout(lang, opts.pageTimeoutMs, async (w) => (await w.recognize(pnm)).data);
    if (!best || result.confidence > best.confidence)
      best = { text: result.text, confidence: result.confidence };
  }
  return best;
}

/**
 * OCR the pages that gave no text (up to opts.maxPages), inserting their sections in
 * page order, marked `ocr: true`. Returns what was done, for the document metadata.
 */
export async function ocrMissingPages(
  doc: { getPage(n: number): Promise<OcrPage> },
  sections: Section[],
  pageCount: number,
  failedPages: number[],
  opts: OcrOptions,
  signal: AbortSignal | undefined,
): Promise<{ ocrPages: number[]; ocrFailedPages: number[]; ocrSkippedPages: number[] }> {
  const withText = new Set(sections.map((s) => s.page));
  const todo = Array.from({ length: pageCount }, (_, i) => i + 1).filter(
    (n) => !withText.has(n) && !failedPages.includes(n),
  );
  const done = {
    ocrPages: [] as number[],
    ocrFailedPages: [] as number[],
    ocrSkippedPages: todo.slice(opts.maxPages),
  };
  for (const n of todo.slice(0, opts.maxPages)) {
    signal?.throwIfAborted();
    try {
      const result = await ocrPage(await doc.getPage(n), opts);
      const text = result ? normalisePdfText(result.text).trim() : '';
      if (!text) continue;
      sections.push({ text, page: n, metadata: { ocr: true } });
      done.ocrPages.push(n);
    } catch (err) {
      if ((err as SluiceError).code === 'CONFIG_ERROR') throw err;
      done.ocrFailedPages.push(n); // over the page budget or an undecodable image: the other pages still count
    }
  }
  sections.sort((a, b) => (a.page ?? 0) - (b.page ?? 0));
  return done;
}

/** pdf.js's operator numbers, from the same pdf.js module instance pdf-parse uses. */
async function paintOps(): Promise<{ image: number; inline: number; repeat: number }> {
  const fromPdfParse = createRequire(require.resolve('pdf-parse'));
  const url = pathToFileURL(fromPdfParse.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href;
  const { OPS } = (await import(url)) as { OPS: Record<string, number> };
  return {
    image: OPS.paintImageXObject!,
    inline: OPS.paintInlineImageXObject!,
    repeat: OPS.paintImageXObjectRepeat!,
  };
}

async function largestImage(page: OcrPage): Promise<DecodedImage | undefined> {
  const ops = await paintOps();
  const list = await page.getOperatorList();
  let best: DecodedImage | undefined;
  for (let i = 0; i < list.fnArray.length; i++) {
    const fn = list.fnArray[i];
    if (fn !== ops.image && fn !== ops.inline && fn !== ops.repeat) continue;
    const arg = list.argsArray[i]?.[0];
    const image =
      typeof arg === 'string'
        ? ((await new Promise<unknown>((resolve) =>
            (arg.startsWith('g_') ? page.commonObjs : page.objs).get(arg, resolve),
          )) as DecodedImage | null)
        : (arg as DecodedImage | undefined);
    if (!image?.data || !(image.width > 0 && image.height > 0)) continue;
    if (!best || image.width * image.height > best.width * best.height) best = image;
  }
  return best;
}

/** Pixels as a binary PNM (PBM for 1-bit, PPM for RGB/RGBA), the simplest format Leptonica reads. */
export function toPnm(img: DecodedImage): Buffer | undefined {
  const { width, height, kind, data } = img;
  if (!data || width * height > MAX_PIXELS) return undefined;
  if (kind === 1) {
    // pdf.js GRAYSCALE_1BPP: 1 = white; PBM: 1 = black. Rows are byte-padded in both.
    const bits = Buffer.from(data.buffer, data.byteOffset, data.byteLength).map((b) => 255 - b);
    return Buffer.concat([Buffer.from(`P4\n${width} ${height}\n`), bits]);
  }
  const header = Buffer.from(`P6\n${width} ${height}\n255\n`);
  if (kind === 2) return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  if (kind !== 3) return undefined;
  const rgb = Buffer.alloc(width * height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
    rgb[q] = data[p]!;
    rgb[q + 1] = data[p + 1]!;
    rgb[q + 2] = data[p + 2]!;
  }
  return Buffer.concat([header, rgb]);
}

/** Run fn on the language's worker within ms; past the budget the worker is terminated (a fresh one serves the next page). */
async function withTimeout<T>(lang: string, ms: number, fn: (w: TesseractWorker) => Promise<T>): Promise<T> {
  const worker = await workerFor(lang);
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SluiceError('TIMEOUT', `OCR of a page took longer than ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([fn(worker), budget]);
  } catch (err) {
    workers.delete(lang);
    await worker.terminate().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function workerFor(lang: string): Promise<TesseractWorker> {
  let w = workers.get(lang);
  if (!w) {
    w = startWorker(lang);
    w.catch(() => workers.delete(lang));
    workers.set(lang, w);
  }
  return w;
}

async function startWorker(lang: string): Promise<TesseractWorker> {
  checkOcrInstalled([lang]);
  const { createWorker } = (await import('tesseract.js')) as unknown as {
    createWorker(lang: string, oem: number, options: Record<string, unknown>): Promise<TesseractWorker>;
  };
  const data = require(`@tesseract.js-data/${lang}`) as { langPath?: string; gzip?: boolean };
  const langPath = data.langPath ?? dirname(require.resolve(`@tesseract.js-data/${lang}`));
  // cacheMethod none: read the installed package, never write a cache beside the worker.
  return createWorker(lang, 1, { langPath, gzip: data.gzip ?? true, cacheMethod: 'none' });
}
