// `npm run bench [-- --quick]`: sluice end to end (real Redis + Postgres/pgvector,
// 1 and 2 worker processes) against the LangChain.js baseline and against the
// machine's limits (raw binary COPY, pdftotext), in one run, in two embedder
// conditions: (a) hash, in process; (b) an OpenAI-compatible test server with
// 100 ms latency and OpenAI's per-request limits. Then re-ingest of the
// unchanged corpus and of a 5%-edited one. First, the deployment modes side by
// side (modes.ts: server+redis, postgres-queue, embedded; `--skip-modes` leaves
// them out). Prints a table and writes every figure and ratio to
// bench/results/bench-<time>.json. See bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbedServer } from '../test/helpers/embed-server.ts';
import type { BaselineArgs, BaselineResult } from './baseline.ts';
import { measureCopyLimit } from './copy-limit.ts';
import { type CorpusManifest, corpusSummary, editCorpus, ensureCorpus } from './corpus.ts';
import { createDatabase, dropDatabase, extractSecondsByMime } from './lib/db.ts';
import { type Child, onSignalCleanup, start, startPrivateRedis, stop } from './lib/procs.ts';
import { buildReport, printReport } from './lib/report.ts';
import { ROOT, runSluice, type SluiceResult } from './lib/sluice.ts';
import { exitIfModesUnavailable, measureModes, printModes } from './modes.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    count: { type: 'string' },
    seed: { type: 'string', default: '42' },
    /** Condition (b) baseline runs on every Nth document (one request per document at 100 ms). */
    'baseline-b-every': { type: 'string' },
    /** a1, a2, b1 and baseline (a) run on every Nth document. */
    'subset-every': { type: 'string' },
    /** b2 (and its re-ingests) run on every Nth document. */
    'b2-every': { type: 'string' },
    'edit-share': { type: 'string', default: '0.05' },
    /** Leave out the deployment modes comparison (modes.ts). */
    'skip-modes': { type: 'boolean', default: false },
  },
});
const QUICK = args.quick === true;
const COUNT = Number(args.count ?? (QUICK ? 200 : 2000));
const SEED = Number(args.seed);
const B_EVERY = Number(args['baseline-b-every'] ?? (QUICK ? 4 : 10));
const SUBSET_EVERY = Number(args['subset-every'] ?? (QUICK ? 2 : 8));
const B2_EVERY = Number(args['b2-every'] ?? (QUICK ? 1 : 2));
const EDIT_SHARE = Number(args['edit-share']);
const DIMS = 384;
const CHUNK = { size: 1000, overlap: 150 };
const MODEL = 'text-embedding-3-small';
const log = (m: string) => process.stderr.write(`${m}\n`);

function git(...a: string[]): string {
  try {
    return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function runBaselineChild(a: BaselineArgs): Promise<BaselineResult> {
  const child: Child = start(
    process.execPath,
    [join(ROOT, 'bench', 'baseline.ts'), JSON.stringify(a)],
    process.env,
    ROOT,
  );
  const code = await child.exited;
  if (code !== 0) throw new Error(`baseline exited ${code}:\n${child.stderrTail()}`);
  return JSON.parse(child.stdout()) as BaselineResult;
}

/** pdftotext over every PDF of the corpus, one process per file, as a user would call it. */
function pdftotext(
  dir: string,
  m: CorpusManifest,
): { docs: number; bytes: number; seconds: number } | undefined {
  const pdfs = m.files.filter((f) => f.format === 'pdf');
  if (spawnSync('pdftotext', ['-v']).error) return undefined;
  const t0 = performance.now();
  for (const f of pdfs) spawnSync('pdftotext', ['-q', join(dir, f.file), '-'], { maxBuffer: 1 << 28 });
  return {
    docs: pdfs.length,
    bytes: pdfs.reduce((n, f) => n + f.bytes, 0),
    seconds: (performance.now() - t0) / 1000,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const tag = `sluice_bench_${process.pid}`;
  const corpusDir = join(tmpdir(), `sluice-bench-corpus-${SEED}-${COUNT}`);
  log(`corpus: ${COUNT} documents, seed ${SEED} → ${corpusDir}`);
  const manifest = await ensureCorpus({ count: COUNT, seed: SEED, out: corpusDir });
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const editDir = join(work, 'corpus');
  // b2's copy: the edit phase rewrites files in place, and only the chosen share of them.
  const b2Manifest: CorpusManifest = {
    ...manifest,
    files: manifest.files.filter((_, i) => i % B2_EVERY === 0),
  };
  b2Manifest.count = b2Manifest.files.length;
  b2Manifest.totalBytes = b2Manifest.files.reduce((n, f) => n + f.bytes, 0);
  mkdirSync(join(editDir, 'docs'), { recursive: true });
  for (const f of b2Manifest.files) cpSync(join(corpusDir, f.file), join(editDir, f.file));
  writeFileSync(join(editDir, 'manifest.json'), JSON.stringify(b2Manifest));
  const subsetDir = join(work, 'subset');
  const subset = manifest.files.filter((_, i) => i % SUBSET_EVERY === 0);
  mkdirSync(join(subsetDir, 'docs'), { recursive: true });
  for (const f of subset) linkSync(join(corpusDir, f.file), join(subsetDir, f.file));
  const subsetBytes = subset.reduce((n, f) => n + f.bytes, 0);

  const dbs: string[] = [];
  const newDb = async (suffix: string, template?: string) => {
    const name = `${tag}_${suffix}`;
    dbs.push(name);
    return createDatabase(name, template);
  };
  onSignalCleanup(async () => {
    for (const d of [...dbs].reverse()) await dropDatabase(d);
    rmSync(work, { recursive: true, force: true });
  });
  const privateRedis = await startPrivateRedis(ROOT);
  const redisUrl = privateRedis?.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  log(`redis: ${privateRedis ? `private redis-server at ${redisUrl}` : `shared ${redisUrl}`}`);
  const server = await startEmbedServer({
    apiKey: 'test',
    latencyMs: 100,
    maxInputs: 2048,
    maxInputTokens: 8192,
    maxRequestTokens: 300_000,
  });
  const envA = { SLUICE_EMBEDDER: 'hash', SLUICE_EMBED_DIMENSIONS: String(DIMS) };
  const envB = {
    SLUICE_EMBEDDER: 'openai',
    OPENAI_BASE_URL: server.openaiBaseUrl,
    OPENAI_API_KEY: 'test',
    SLUICE_EMBED_MODEL: MODEL,
    SLUICE_EMBED_DIMENSIONS: String(DIMS),
  };
  try {
    const extras: Record<string, unknown> = {};
    // First, so a build without one of the modes stops here in one line, before the long part.
    if (!args['skip-modes']) {
      extras.modes = await measureModes({ seed: SEED, redisUrl, tag, log });
      log(printModes(extras.modes as Awaited<ReturnType<typeof measureModes>>));
    }
    await newDb('tpl');
    const sluice: Record<string, SluiceResult> = {};
    const scenario = async (key: string, workers: number, env: Record<string, string>, more = false) => {
      log(`sluice ${key}: ${workers} worker(s)`);
      const databaseUrl = await newDb(key, `${tag}_tpl`);
      const inputDir = join(more ? editDir : subsetDir, 'docs');
      const phases = [{ label: 'first' }];
      if (more)
        phases.push({ label: 'unchanged' }, {
          label: 'edited',
          before: async () => {
            const edited = await editCorpus(editDir, EDIT_SHARE);
            extras.editedDocuments = edited.length;
          },
        } as { label: string });
      sluice[key] = await runSluice(
        {
          label: key,
          workers,
          databaseUrl,
          redisUrl,
          prefix: `bench-${process.pid}-${key}`,
          ...(privateRedis ? { redisPid: privateRedis.child.pid } : {}),
          inputDir,
          env,
          ...(env === envB ? { server } : {}),
          phases,
        },
        log,
      );
      return databaseUrl;
    };

    const a1Url = await scenario('a1', 1, envA);
    {
      log('limit: raw binary COPY of the same rows');
      const pool = new pg.Pool({ connectionString: a1Url, max: 1 });
      try {
        extras.copy = await measureCopyLimit(pool, QUICK ? 1 : 2);
        extras.sluicePdfExtract = await extractSecondsByMime(pool, 'application/pdf');
      } finally {
        await pool.end();
      }
      log('limit: pdftotext on the PDF part');
      extras.pdftotext = pdftotext(corpusDir, manifest);
    }
    await scenario('a2', 2, envA);
    await scenario('b1', 1, envB);
    await scenario('b2', 2, envB, true);

    const files = manifest.files.map((f) => f.file);
    const base = { dir: corpusDir, dimensions: DIMS, chunkSize: CHUNK.size, chunkOverlap: CHUNK.overlap };
    log(`baseline (a): LangChain.js, hash embeddings, every ${SUBSET_EVERY} document(s)`);
    const baselineA = await runBaselineChild({
      ...base,
      files: subset.map((f) => f.file),
      databaseUrl: await newDb('lc_a'),
      table: 'lc_chunks',
      embedder: 'hash',
    });
    log(`baseline (b): LangChain.js, OpenAIEmbeddings, every ${B_EVERY} document(s)`);
    const reqFrom = server.requests.length;
    const baselineB = await runBaselineChild({
      ...base,
      files: files.filter((_, i) => i % B_EVERY === 0),
      databaseUrl: await newDb('lc_b'),
      table: 'lc_chunks',
      embedder: 'openai',
      openaiBaseUrl: server.openaiBaseUrl,
      model: MODEL,
    });
    extras.baselineBRequests = server.requests.length - reqFrom;

    const report = buildReport({
      meta: {
        date: new Date(started).toISOString(),
        commit: git('rev-parse', 'HEAD'),
        dirty: git('status', '--porcelain', '--', 'src', 'bench', 'migrations') !== '',
        node: process.version,
        nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
        memoryGb: totalmem() / 2 ** 30,
        redis: privateRedis ? 'private redis-server' : 'shared',
        quick: QUICK,
        totalSeconds: 0,
      },
      params: {
        count: COUNT,
        seed: SEED,
        corpusBytes: manifest.totalBytes,
        formats: corpusSummary(manifest),
        chunkSize: CHUNK.size,
        chunkOverlap: CHUNK.overlap,
        dimensions: DIMS,
        model: MODEL,
        serverLatencyMs: 100,
        serverLimits: { maxInputs: 2048, maxRequestTokens: 300_000, maxInputTokens: 8192 },
        subsetEvery: SUBSET_EVERY,
        b2Every: B2_EVERY,
        b2Documents: b2Manifest.count,
        b2Bytes: b2Manifest.totalBytes,
        subsetDocuments: subset.length,
        subsetBytes,
        baselineBEvery: B_EVERY,
        editShare: EDIT_SHARE,
      },
      sluice,
      baselineA,
      baselineB,
      extras,
    });
    report.meta.totalSeconds = (Date.now() - started) / 1000;
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const out = join(
      dir,
      `bench-${QUICK ? 'quick-' : ''}${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`,
    );
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    printReport(report);
    log(`\nresults: ${out} (${report.meta.totalSeconds.toFixed(0)} s)`);
  } finally {
    await server.close();
    if (privateRedis) await stop(privateRedis.child);
    for (const d of dbs.reverse()) await dropDatabase(d);
    rmSync(work, { recursive: true, force: true });
  }
}

await main().catch(exitIfModesUnavailable);
