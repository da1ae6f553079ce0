// PDF benchmark (`npm run bench:pdf [-- <dir>]`): pages/s of our extractor on the
// production thread pool (2 threads) against poppler's `pdftotext` on the same files
// in the same run, then peak RSS while extracting a generated ≥ 200 MB PDF.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../src/extractors/types.ts';
import { createThreadPool } from '../src/queue/thread-pool.ts';

const MIME = 'application/pdf';
const BIG = '/tmp/sluice-bench-200mb.pdf';

/** Born-digital PDFs of the shared corpus (if present), else generated reports. */
async function inputs(dir: string | undefined): Promise<{ name: string; bytes: Uint8Array }[]> {
  const names = [
    'deb-bash.pdf',
    'deb-debian-faq.en.pdf',
    'deb-project-history.en.pdf',
    'docling-multi_page.pdf',
    'uns-multi-column-2p.pdf',
    'docling-code_and_formula.pdf',
    'uns-pdf2image-memory-error-test-400p.pdf',
  ];
  if (dir && existsSync(dir)) {
    const found = names.filter((n) => existsSync(join(dir, n)));
    if (found.length)
      return found.map((n) => ({ name: join(dir, n), bytes: new Uint8Array(readFileSync(join(dir, n))) }));
  }
  const { makeReportPdf } = await import('../test/helpers/make-pdf.ts');
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (let i = 0; i < 4; i++) out.push({ name: `generated-${i}`, bytes: await makeReportPdf(100, 7) });
  return out;
}

function pdftotextPages(path: string): number {
  const info = execFileSync('pdfinfo', [path], { encoding: 'utf8' });
  return Number(/^Pages:\s+(\d+)/m.exec(info)?.[1] ?? 0);
}

async function throughput(files: { name: string; bytes: Uint8Array }[]): Promise<Record<string, number>> {
  const pool = createThreadPool({ threads: 2, timeoutMs: 120_000, memoryMb: 1024 });
  // Warm up both threads (module loading is a one-off cost, not per-document throughput).
  const warm = files[0]!.bytes;
  await Promise.all(
    [0, 1].map(() => pool.run({ kind: 'extract', bytes: warm.slice(), mime: MIME, limits: DEFAULT_LIMITS })),
  );
  let pages = 0;
  const t0 = performance.now();
  await Promise.all(
    files.map(async (f) => {
      const doc = await pool.run({
        kind: 'extract',
        bytes: f.bytes.slice(),
        mime: MIME,
        limits: DEFAULT_LIMITS,
      });
      pages += Number(doc.metadata['pageCount'] ?? 0);
    }),
  );
  const ours = pages / ((performance.now() - t0) / 1000);
  await pool.close();
  const result: Record<string, number> = { pages, oursPagesPerSec: ours };
  const hasPoppler = spawnSync('pdftotext', ['-v']).status === 0;
  if (hasPoppler) {
    const paths = files.map((f) => f.name).filter((n) => existsSync(n));
    let popplerPages = 0;
    const t1 = performance.now();
    for (const p of paths) execFileSync('pdftotext', ['-enc', 'UTF-8', p, '/dev/null']);
    const secs = (performance.now() - t1) / 1000;
    for (const p of paths) popplerPages += pdftotextPages(p);
    result['pdftotextPagesPerSec'] = popplerPages / secs;
    result['ratio'] = ours / result['pdftotextPagesPerSec'];
  }
  return result;
}

/**
 * Write a PDF of `pages` pages, each with ~40 lines of text and an uncompressed
 * 100 KB random image (incompressible bulk), streaming to disk so the generator
 * itself stays small. 2,100 pages ≈ 216 MB (> 200 MiB).
 */
function writeBigPdf(path: string, pages: number): void {
  const fd = openSync(path, 'w');
  let pos = 0;
  const offsets: number[] = [];
  const put = (s: string | Uint8Array): void => {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    writeSync(fd, b);
    pos += b.length;
  };
  const obj = (n: number, body: string | Uint8Array[]): void => {
    offsets[n] = pos;
    put(`${n} 0 obj\n`);
    if (typeof body === 'string') put(body);
    else for (const b of body) put(b);
    put('\nendobj\n');
  };
  put('%PDF-1.4\n');
  const kids = Array.from({ length: pages }, (_, i) => `${4 + i * 3} 0 R`).join(' ');
  obj(1, '<< /Type /Catalog /Pages 2 0 R >>');
  obj(2, `<< /Type /Pages /Count ${pages} /Kids [${kids}] >>`);
  obj(3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const img = Buffer.alloc(200 * 167 * 3);
  for (let p = 0; p < pages; p++) {
    const n = 4 + p * 3;
    const lines = Array.from(
      { length: 40 },
      (_, l) =>
        `BT /F1 10 Tf 50 ${780 - l * 18} Td (Page ${p + 1} line ${l + 1}: benchmark text for the extraction memory test.) Tj ET`,
    );
    const content = `q 200 0 0 167 300 50 cm /Im1 Do Q\n${lines.join('\n')}`;
    obj(
      n,
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents ${n + 1} 0 R /Resources << /Font << /F1 3 0 R >> /XObject << /Im1 ${n + 2} 0 R >> >> >>`,
    );
    obj(n + 1, `<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
    for (let i = 0; i < img.length; i += 4) img.writeUInt32LE((Math.random() * 0xffffffff) >>> 0, i);
    obj(n + 2, [
      Buffer.from(
        `<< /Type /XObject /Subtype /Image /Width 200 /Height 167 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${img.length} >>\nstream\n`,
      ),
      img,
      Buffer.from('\nendstream'),
    ]);
  }
  const xref = pos;
  const count = 4 + pages * 3;
  put(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let i = 1; i < count; i++) put(`${String(offsets[i]).padStart(10, '0')} 00000 n \n`);
  put(`trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  closeSync(fd);
}

/** Child mode: extract the big PDF with the given maxBytes and report peak RSS. */
async function child(maxBytes: number): Promise<void> {
  const pool = createThreadPool({ threads: 1, timeoutMs: 600_000, memoryMb: 1024 });
  const t0 = performance.now();
  let outcome: string;
  try {
    const doc = await pool.run({
      kind: 'extract',
      bytes: readFileSync(BIG), // transferred to the worker, not copied
      mime: MIME,
      limits: { ...DEFAULT_LIMITS, maxBytes },
    });
    outcome = `ok, ${doc.metadata['pageCount']} pages, ${doc.sections.reduce((n, s) => n + s.text.length, 0)} chars`;
  } catch (err) {
    outcome = `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
  await pool.close();
  const secs = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ outcome, secs, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(Number(argv[1]));
  const dir = argv.find((a) => !a.startsWith('--')) ?? '/work/shared/corpus/pdf';
  const files = await inputs(dir);
  console.log(
    `throughput on ${files.length} PDFs (${files.map((f) => f.name.split('/').at(-1)).join(', ')})`,
  );
  const t = await throughput(files);
  console.log(JSON.stringify(t, null, 2));
  if (!existsSync(BIG) || statSync(BIG).size < 200 * 1024 * 1024) writeBigPdf(BIG, 2100);
  console.log(`\nbig PDF: ${BIG}, ${(statSync(BIG).size / 1024 / 1024).toFixed(0)} MB`);
  for (const [label, maxBytes] of [
    ['default limits', DEFAULT_LIMITS.maxBytes],
    ['maxBytes raised to 512 MB', 512 * 1024 * 1024],
  ] as const) {
    const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', String(maxBytes)], {
      encoding: 'utf8',
    });
    console.log(`${label}: ${r.stdout.trim() || r.stderr.trim()}`);
  }
}

await main();
