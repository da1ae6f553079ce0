// Extraction quality eval: `npm run eval:extract -- <dir> [--json] [--timeout ms] [--pdftotext] [--all]`.
// For every document with an expected text beside it (name.expected.txt|md|html) the
// real extractor (chosen by sniffed type) runs in a worker thread with a time limit, and
// the output is scored by word-trigram recall/precision/F1 against the expected text.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

interface Job {
  path: string;
}
interface Outcome {
  text?: string;
  pages?: number;
  mime?: string;
  code?: string;
  message?: string;
  ms: number;
}
interface Row {
  file: string;
  format: string;
  category: string;
  status: string;
  recall: number;
  precision: number;
  f1: number;
  pages: number | null;
  pagesPerSec: number | null;
  /** False for --all documents that have no expected text (kept out of the means). */
  scored: boolean;
  /** F1 of `pdftotext` on the same file, with --pdftotext. */
  pdftotextF1?: number;
}

const EXPECTED = ['.expected.txt', '.expected.md', '.expected.html'];

/** Expected text from upstream test assertions (`elements_text` in name.expected.json), if any. */
function elementsText(path: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(`${path}.expected.json`, 'utf8')) as { elements_text?: unknown };
    const els = parsed.elements_text;
    return Array.isArray(els) && els.length > 0 && els.every((e) => typeof e === 'string') ? els.join('\n\n') : undefined;
  } catch {
    return undefined;
  }
}

/** Plain words of a text, for scoring: markup, hyphenation and ligatures normalised away. */
export function words(raw: string, kind: 'txt' | 'md' | 'html'): string[] {
  let s = raw.normalize('NFKC');
  if (kind === 'html') s = s.replace(/<[^>]*>/g, ' ').replace(/&(amp|lt|gt|quot|#39|nbsp);/g, ' ');
  if (kind === 'md') s = s.replace(/<!--.*?-->/gs, ' ').replace(/!\[[^\]]*\]\([^)]*\)/g, ' ').replace(/\]\([^)]*\)/g, ' ');
  // Expected renditions keep line-end hyphens ("ef- ficient"); extractors join them.
  s = s.replace(/(\p{L})-\s+(\p{Ll})/gu, '$1$2');
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function trigrams(ws: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + 2 < ws.length; i++) {
    const k = `${ws[i]} ${ws[i + 1]} ${ws[i + 2]}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** Word-trigram recall, precision and F1 of `got` against `want` (multiset overlap). */
export function score(got: readonly string[], want: readonly string[]): { recall: number; precision: number; f1: number } {
  const g = trigrams(got);
  const w = trigrams(want);
  let overlap = 0;
  for (const [k, n] of w) overlap += Math.min(n, g.get(k) ?? 0);
  const gt = [...g.values()].reduce((a, b) => a + b, 0);
  const wt = [...w.values()].reduce((a, b) => a + b, 0);
  const recall = wt ? overlap / wt : gt ? 0 : 1;
  const precision = gt ? overlap / gt : wt ? 0 : 1;
  const f1 = recall + precision ? (2 * recall * precision) / (recall + precision) : 0;
  return { recall, precision, f1 };
}

async function extractInThisThread(job: Job): Promise<Outcome> {
  const { pickExtractor } = await import('../src/extractors/index.ts');
  const { DEFAULT_LIMITS } = await import('../src/extractors/types.ts');
  const bytes = new Uint8Array(readFileSync(job.path));
  const mime = await sniff(bytes, basename(job.path));
  const t0 = performance.now(); // after module loading: pages/s measures parsing only
  try {
    const doc = await pickExtractor(mime).extract({ bytes, mime, filename: basename(job.path), limits: DEFAULT_LIMITS });
    const pages = typeof doc.metadata['pageCount'] === 'number' ? doc.metadata['pageCount'] : undefined;
    const text = doc.sections.map((s) => s.text).join('\n\n');
    return { text, mime, ...(pages === undefined ? {} : { pages }), ms: performance.now() - t0 };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { mime, code: e.code ?? 'INTERNAL', message: e.message ?? String(err), ms: performance.now() - t0 };
  }
}

/** Content type via the project's sniffer when present, else by extension (eval only). */
async function sniff(bytes: Uint8Array, name: string): Promise<string> {
  try {
    const mod = (await import('../src/extractors/sniff.ts')) as Record<string, unknown>;
    const fn = mod['sniffType'] as (b: Uint8Array, n: string) => unknown;
    const r = await fn(bytes, name);
    if (typeof r === 'string') return r;
    if (r && typeof (r as { mime?: unknown }).mime === 'string') return (r as { mime: string }).mime;
  } catch {}
  const ext = extname(name).toLowerCase();
  const byExt: Record<string, string> = {
    '.pdf': 'application/pdf',
    '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  };
  return byExt[ext] ?? 'application/octet-stream';
}

function runIsolated(path: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    // A worker per file: a hang or out-of-memory kills the worker, never the eval.
    const w = new Worker(new URL(import.meta.url), {
      workerData: { path } satisfies Job,
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    const timer = setTimeout(() => {
      void w.terminate();
      resolve({ code: 'TIMEOUT', message: `over ${timeoutMs} ms`, ms: performance.now() - t0 });
    }, timeoutMs);
    w.once('message', (o: Outcome) => {
      clearTimeout(timer);
      void w.terminate();
      resolve(o);
    });
    w.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: "WORKER_CRASH", message: String((err as Error)?.message ?? err), ms: performance.now() - t0 });
    });
  });
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

function categories(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  try {
    for (const line of readFileSync(join(dir, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1)) {
      const [, path, , , category] = line.split('\t');
      if (path && category) m.set(path, category);
    }
  } catch {}
  return m;
}

let withPdftotext = false;

/** Baseline text from poppler's pdftotext (reference only; absent → undefined). */
function pdftotext(path: string): string | undefined {
  const r = spawnSync('pdftotext', ['-enc', 'UTF-8', path, '-'], { encoding: 'utf8', timeout: 30_000, maxBuffer: 1 << 28 });
  return r.status === 0 ? r.stdout : undefined;
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  withPdftotext = argv.includes('--pdftotext');
  const all = argv.includes('--all');
  const ti = argv.indexOf('--timeout');
  const timeoutMs = ti >= 0 ? Number(argv[ti + 1]) : 30_000;
  const dir = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--timeout');
  if (!dir) throw new Error('usage: npm run eval:extract -- <dir> [--json] [--timeout ms] [--pdftotext] [--all]');
  const cats = categories(dir);
  const rows: Row[] = [];
  for (const path of walk(dir)) {
    if (path.includes('.expected.') || basename(path) === 'MANIFEST.tsv' || basename(path) === 'README.md') continue;
    const exp = EXPECTED.find((e) => {
      try {
        return statSync(path + e).isFile();
      } catch {
        return false;
      }
    });
    const elements = exp ? undefined : elementsText(path);
    if (!exp && elements === undefined && !all) continue;
    const file = relative(dir, path);
    const o = await runIsolated(path, timeoutMs);
    // --all: documents without an expected text are run for robustness (status only).
    const kind = (exp ?? '.expected.txt').slice('.expected.'.length) as 'txt' | 'md' | 'html';
    const want = exp ? words(readFileSync(path + exp, 'utf8'), kind) : elements ? words(elements, 'txt') : [];
    // An empty expected text is met by NO_TEXT (e.g. mammoth's empty.docx).
    const got = o.text ?? (o.code === 'NO_TEXT' && want.length === 0 ? '' : undefined);
    const s = got === undefined ? { recall: 0, precision: 0, f1: 0 } : score(words(got, 'txt'), want);
    const base = exp && withPdftotext && path.endsWith('.pdf') ? pdftotext(path) : undefined;
    rows.push({
      file,
      format: extname(path).slice(1).toLowerCase(),
      category: cats.get(file) ?? '',
      status: o.code ?? 'ok',
      scored: exp !== undefined || elements !== undefined,
      ...s,
      pages: o.pages ?? null,
      pagesPerSec: o.pages ? o.pages / (o.ms / 1000) : null,
      ...(base === undefined ? {} : { pdftotextF1: score(words(base, 'txt'), want).f1 }),
    });
    if (!json) {
      const r = rows.at(-1)!;
      const pps = r.pagesPerSec === null ? '' : `  ${r.pagesPerSec.toFixed(1)} pages/s`;
      const f = (x: number): string => x.toFixed(3);
      const pt = r.pdftotextF1 === undefined ? '' : `  (pdftotext F1 ${f(r.pdftotextF1)})`;
      const scores = r.scored ? `R ${f(r.recall)} P ${f(r.precision)} F1 ${f(r.f1)}` : '(no expected text)';
      console.log(`${file.padEnd(56)} ${r.status.padEnd(16)} ${scores}${pps}${pt}`);
    }
  }
  const summary: Record<
    string,
    { files: number; meanF1: number; meanRecall: number; meanPrecision: number; pdftotextMeanF1?: number }
  > = {};
  const groups = new Map<string, Row[]>();
  // Formats with no extractor yet are listed per file but kept out of the means.
  for (const r of rows.filter((x) => x.scored && x.status !== 'UNSUPPORTED_TYPE')) {
    for (const key of [r.format, `${r.format}/${r.category || 'uncategorised'}`]) groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, rs] of [...groups].sort()) {
    const base = rs.flatMap((r) => (r.pdftotextF1 === undefined ? [] : [r.pdftotextF1]));
    summary[key] = {
      ...(base.length ? { pdftotextMeanF1: mean(base) } : {}),
      files: rs.length,
      meanF1: mean(rs.map((r) => r.f1)),
      meanRecall: mean(rs.map((r) => r.recall)),
      meanPrecision: mean(rs.map((r) => r.precision)),
    };
  }
  if (json) {
    console.log(JSON.stringify({ rows, summary }, null, 2));
    return;
  }
  console.log('\nmean per format (and per MANIFEST category):');
  for (const [k, v] of Object.entries(summary)) {
    const pt = v.pdftotextMeanF1 === undefined ? '' : `  (pdftotext F1 ${v.pdftotextMeanF1.toFixed(3)})`;
    console.log(`  ${k.padEnd(24)} n=${String(v.files).padEnd(3)} F1 ${v.meanF1.toFixed(3)}  R ${v.meanRecall.toFixed(3)}  P ${v.meanPrecision.toFixed(3)}${pt}`);
  }
}

if (isMainThread) {
  await main(process.argv.slice(2));
} else {
  parentPort?.postMessage(await extractInThisThread(workerData as Job));
}
