// Benchmark corpus generator. Seeded and deterministic: the same --seed and
// --count give the same files, byte for byte. Markdown, HTML and plain text
// make up most of it; PDF (pdf-lib) and DOCX (docx) a configurable share. Sizes
// follow a log-normal spread (median ~20 KB of text, 2 KB–150 KB), so the
// default 2,000 documents come to ≈ 50 MB. `--edit <share>` revises that share
// of an existing corpus in place (a few paragraphs per document, not all).
//
//   node bench/corpus.ts --count 2000 --seed 42 --out /tmp/corpus
//   node bench/corpus.ts --out /tmp/corpus --edit 0.05
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FORMATS, type Format, render } from './lib/render.ts';
import { docSeed, editSpec, makeSpec, rng, shuffle } from './lib/text.ts';

/** Bump when generated content changes, so cached corpora are rebuilt. */
const GENERATOR_VERSION = 2;

export interface CorpusOptions {
  count: number;
  seed: number;
  out: string;
  /** Share of documents rendered as PDF (default 0.08). */
  pdfShare?: number;
  /** Share of documents rendered as DOCX (default 0.07). */
  docxShare?: number;
}

export interface CorpusFile {
  index: number;
  /** Path relative to the corpus directory. */
  file: string;
  format: Format;
  bytes: number;
}

export interface CorpusManifest {
  version: number;
  seed: number;
  count: number;
  pdfShare: number;
  docxShare: number;
  totalBytes: number;
  files: CorpusFile[];
  /** Indexes revised by --edit, in the order they were edited. */
  edited?: number[];
}

function formatOf(seed: number, index: number, pdfShare: number, docxShare: number): Format {
  const x = rng(docSeed(seed, index, 1))();
  if (x < pdfShare) return 'pdf';
  if (x < pdfShare + docxShare) return 'docx';
  const y = (x - pdfShare - docxShare) / (1 - pdfShare - docxShare);
  return y < 0.45 ? 'md' : y < 0.75 ? 'html' : 'txt';
}

/** Target text length: log-normal around 20,000 characters, clipped to 2 KB–150 KB. */
function targetChars(seed: number, index: number, format: Format): number {
  const r = rng(docSeed(seed, index, 2));
  const normal = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const chars = Math.min(150_000, Math.max(2000, Math.round(Math.exp(Math.log(20_000) + 0.7 * normal))));
  // Paged formats are heavier to make and to read; keep them to ~20 pages.
  return format === 'pdf' ? Math.min(chars, 60_000) : chars;
}

function specFor(m: Pick<CorpusManifest, 'seed'>, f: Pick<CorpusFile, 'index' | 'format'>) {
  return makeSpec(docSeed(m.seed, f.index), f.index, targetChars(m.seed, f.index, f.format));
}

function readManifest(dir: string): CorpusManifest | undefined {
  const path = join(dir, 'manifest.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as CorpusManifest) : undefined;
}

/** Writes the corpus to `out` (files under out/docs) and returns its manifest. */
export async function generateCorpus(opts: CorpusOptions): Promise<CorpusManifest> {
  const pdfShare = opts.pdfShare ?? 0.08;
  const docxShare = opts.docxShare ?? 0.07;
  mkdirSync(join(opts.out, 'docs'), { recursive: true });
  const files: CorpusFile[] = [];
  for (let index = 0; index < opts.count; index++) {
    const format = formatOf(opts.seed, index, pdfShare, docxShare);
    const file = join('docs', `${String(index).padStart(5, '0')}.${format}`);
    const bytes = await render(specFor(opts, { index, format }), format);
    writeFileSync(join(opts.out, file), bytes);
    files.push({ index, file, format, bytes: bytes.byteLength });
  }
  const manifest: CorpusManifest = {
    version: GENERATOR_VERSION,
    seed: opts.seed,
    count: opts.count,
    pdfShare,
    docxShare,
    totalBytes: files.reduce((n, f) => n + f.bytes, 0),
    files,
  };
  writeFileSync(join(opts.out, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

/** Reuses a corpus already generated in `out` with the same parameters, else generates it. */
export async function ensureCorpus(opts: CorpusOptions): Promise<CorpusManifest> {
  const m = readManifest(opts.out);
  if (
    m &&
    m.version === GENERATOR_VERSION &&
    m.seed === opts.seed &&
    m.count === opts.count &&
    m.pdfShare === (opts.pdfShare ?? 0.08) &&
    m.docxShare === (opts.docxShare ?? 0.07) &&
    m.edited === undefined
  )
    return m;
  return generateCorpus(opts);
}

/**
 * Revises `share` of the corpus in `dir` in place: each chosen document gets two
 * paragraphs (in different sections) rewritten, then is re-rendered in its format.
 * The choice is seeded by the corpus seed, so every run edits the same documents.
 */
export async function editCorpus(dir: string, share: number): Promise<CorpusFile[]> {
  const m = readManifest(dir);
  if (!m) throw new Error(`${dir} has no manifest.json: generate the corpus first`);
  const n = Math.ceil(m.files.length * share);
  const chosen = shuffle(
    m.files.map((f) => f.index),
    rng(m.seed ^ 0xed17),
  ).slice(0, n);
  const edited: CorpusFile[] = [];
  const byIndex = new Map(m.files.map((f) => [f.index, f]));
  for (const index of chosen) {
    const f = byIndex.get(index)!;
    const spec = editSpec(specFor(m, f), docSeed(m.seed, index, 3));
    const bytes = await render(spec, f.format);
    writeFileSync(join(dir, f.file), bytes);
    f.bytes = bytes.byteLength;
    edited.push(f);
  }
  m.totalBytes = m.files.reduce((t, f) => t + f.bytes, 0);
  m.edited = [...(m.edited ?? []), ...chosen];
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(m)}\n`);
  return edited;
}

/** Per-format counts and bytes, for reports. */
export function corpusSummary(m: CorpusManifest): Record<Format, { files: number; bytes: number }> {
  const out = Object.fromEntries(FORMATS.map((f) => [f, { files: 0, bytes: 0 }])) as Record<
    Format,
    { files: number; bytes: number }
  >;
  for (const f of m.files) {
    out[f.format].files++;
    out[f.format].bytes += f.bytes;
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' },
      'pdf-share': { type: 'string', default: '0.08' },
      'docx-share': { type: 'string', default: '0.07' },
      edit: { type: 'string' },
    },
  });
  if (!values.out)
    throw new Error('usage: node bench/corpus.ts --out <dir> [--count N] [--seed S] [--edit share]');
  const t0 = performance.now();
  if (values.edit) {
    const edited = await editCorpus(values.out, Number(values.edit));
    console.log(`edited ${edited.length} document(s) in ${values.out}`);
    return;
  }
  const m = await generateCorpus({
    count: Number(values.count),
    seed: Number(values.seed),
    out: values.out,
    pdfShare: Number(values['pdf-share']),
    docxShare: Number(values['docx-share']),
  });
  const s = corpusSummary(m);
  const mb = (b: number) => (b / 1e6).toFixed(1);
  console.log(
    `${m.count} documents, ${mb(m.totalBytes)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
      FORMATS.map((f) => `${f} ${s[f].files} (${mb(s[f].bytes)} MB)`).join(', '),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
