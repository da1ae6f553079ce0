// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Issue 4 acceptance through the real pipeline (BullMQ stages, Postgres/pgvector)
// with the `openai` embedder pointed at the protocol test server: requests packed
// across documents to the provider's limits, 429 storms and 500s ridden out, a bad
// key holding the embed stage until it is fixed, the embedding cache on edits,
// halfvec for 3,072 dimensions, and one SLUICE_EMBED_TPM budget shared by two
// worker processes. The shared-budget case needs a full minute of budget window,
// so it runs in the background while the others run.
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIEmbedder } from '../../src/embedders/openai.ts';
import { waitForDocuments } from '../../src/queue/producer.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/supervisor.ts';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { copyTextFixtures } from '../helpers/corpus.ts';
import {
  type EmbedServer,
  type RecordedRequest,
  serverTokens,
  startEmbedServer,
} from '../helpers/embed-server.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const KEY = 'test-key';
const WORDS =
  'river stone light paper quiet signal garden orbit metal cloud amber thread harbor lantern meadow copper'.split(
    ' ',
  );
const scratch: string[] = [];
const children: ChildProcess[] = [];

function openaiEnv(server: EmbedServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLUICE_EMBEDDER: 'openai',
    OPENAI_BASE_URL: server.openaiBaseUrl,
    OPENAI_API_KEY: KEY,
    SLUICE_EMBED_MODEL: 'text-embedding-3-small',
    ...extra,
  };
}

/** `n` generated prose documents of about `chars` characters each, unique per `tag`. */
function writeDocs(tag: string, n: number, chars: number): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-embed-${tag}-`));
  scratch.push(dir);
  let x = tag.length * 7919 + n;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x;
  };
  for (let d = 0; d < n; d++) {
    let text = `# ${tag} document ${d}\n\n`;
    for (let s = 0; text.length < chars; s++) {
      const words = Array.from({ length: 8 + (next() % 12) }, () => WORDS[next() % WORDS.length]);
      text += `${tag}${d}s${s} ${words.join(' ')}.${s % 6 === 5 ? '\n\n' : ' '}`;
    }
    writeFileSync(join(dir, `${tag}-${d}.md`), text);
  }
  return dir;
}

const ok = (reqs: RecordedRequest[]) => reqs.filter((r) => r.status === 200);

/** Largest token sum the server admitted within any window. */
function peakTokens(reqs: RecordedRequest[], windowMs: number): number {
  const good = ok(reqs);
  let peak = 0;
  for (const r of good) {
    const inWindow = good.filter((q) => q.at <= r.at && q.at > r.at - windowMs);
    peak = Math.max(
      peak,
      inWindow.reduce((n, q) => n + q.tokens, 0),
    );
  }
  return peak;
}

async function statuses(p: TestPipeline): Promise<Record<string, number>> {
  const rows = await p.query<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM sluice.documents GROUP BY 1',
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

async function counters(p: TestPipeline): Promise<Record<string, number>> {
  const rows = await p.query<{ name: string; value: string }>('SELECT name, value FROM sluice.counters');
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.value)]));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await waitExit(child);
}

// ---- Two worker processes, one SLUICE_EMBED_TPM budget (background, ~65 s) ----

const TPM = 5000;
interface SharedBudgetResult {
  statuses: Record<string, number>;
  requests: RecordedRequest[];
  counters: Record<string, number>;
}

async function runSharedBudget(): Promise<SharedBudgetResult> {
  const server = await startEmbedServer({ apiKey: KEY, tokensPerWindow: TPM, windowMs: 60_000 });
  const p = await startPipeline({
    label: 'embed-tpm',
    stages: [],
    env: openaiEnv(server, { SLUICE_EMBED_TPM: String(TPM), SLUICE_EMBED_DIMENSIONS: '64' }),
  });
  try {
    const env = { ...p.env, SLUICE_LOG_LEVEL: 'info' };
    const workers = await Promise.all([spawnWorker(env), spawnWorker(env)]);
    children.push(...workers);
    // About 1.4× the per-minute budget: the last requests must wait for the window.
    const summary = await p.ingest([writeDocs('budget', 8, 4200)]);
    const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 85_000, intervalMs: 200 });
    await Promise.all(workers.map(stop));
    if (waited.timedOut) throw new Error(`shared-budget documents still pending: ${JSON.stringify(waited)}`);
    return { statuses: await statuses(p), requests: [...server.requests], counters: await counters(p) };
  } finally {
    await p.close();
    await server.close();
  }
}

// ---- A model sluice does not know (background) ----

interface UnknownModelResult {
  documents: Array<{ uri: string; status: string; code: string | null }>;
  dimensions: number[];
}

/**
 * `acme-embed-v1` is in no table: its width is learnt from the first response, and
 * an input over the server's per-input limit (which sluice cannot know for this
 * model) fails only its own document with INPUT_TOO_LONG.
 */
async function runUnknownModel(): Promise<UnknownModelResult> {
  const server = await startEmbedServer({ apiKey: KEY, maxInputTokens: 400 });
  const p = await startPipeline({
    label: 'embed-unknown',
    // The dense text below mixes scripts mid-word, which the quality gate would fail
    // LOW_QUALITY before it reached the embedder; this test is about the embedder's limit.
    env: openaiEnv(server, { SLUICE_EMBED_MODEL: 'acme-embed-v1', SLUICE_ACCEPT_LOW_QUALITY: 'true' }),
  });
  try {
    const dir = writeDocs('acme', 3, 2500);
    // ~1,000 characters of hex and CJK: well over 400 tokens in one chunk.
    const dense = Array.from({ length: 60 }, (_, i) => `${(i * 2654435761).toString(16)}漢字仮名`).join('');
    writeFileSync(join(dir, 'acme-dense.md'), `# Dense\n\n${dense}\n`);
    await p.ingestAndWait([dir]);
    const documents = await p.query<{ uri: string; status: string; code: string | null }>(
      'SELECT uri, status, error_code AS code FROM sluice.documents ORDER BY uri',
    );
    const dims = await p.query<{ d: number }>(
      'SELECT DISTINCT vector_dims(embedding) AS d FROM sluice.chunks',
    );
    return {
      documents: documents.map((d) => ({ ...d, uri: basename(d.uri) })),
      dimensions: dims.map((r) => r.d),
    };
  } finally {
    await p.close();
    await server.close();
  }
}

let unknownModel: Promise<UnknownModelResult>;
let sharedBudget: Promise<SharedBudgetResult>;
let server: EmbedServer;
let p: TestPipeline;
let embedWorkers: WorkerSet | undefined;
let docs: ReturnType<typeof copyTextFixtures>;

beforeAll(async () => {
  sharedBudget = runSharedBudget();
  sharedBudget.catch(() => undefined); // awaited (and reported) by its own test
  unknownModel = runUnknownModel();
  unknownModel.catch(() => undefined);
  docs = copyTextFixtures();
  server = await startEmbedServer({ apiKey: KEY, maxInputs: 8, maxRequestTokens: 20_000, latencyMs: 15 });
  // Long locks: on a busy machine a 3 s lock can lapse and re-deliver a finished
  // embed job, which would count its (now cached) chunks again as hits.
  const env = openaiEnv(server, {
    SLUICE_EMBED_DIMENSIONS: '256',
    SLUICE_LOCK_DURATION_MS: '30000',
    SLUICE_STALLED_INTERVAL_MS: '30000',
  });
  // The provider's per-request caps, told to the embedder (OpenAI's own are 2,048 and 300,000).
  const embedder = await createOpenAIEmbedder({
    apiKey: KEY,
    baseUrl: server.openaiBaseUrl,
    model: 'text-embedding-3-small',
    dimensions: 256,
    maxBatch: 8,
    maxBatchTokens: 20_000,
  });
  // Embed workers start later, once every document's chunks are queued for them.
  p = await startPipeline({ label: 'embed-pipe', env, embedder, stages: ['extract', 'chunk', 'load'] });
});

afterAll(async () => {
  await embedWorkers?.close();
  await p?.close();
  await server?.close();
  await Promise.all(children.map(stop));
  docs?.cleanup();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('embedding through the real pipeline', () => {
  it('packs chunks from many documents into requests within 10% of the minimum the limits allow', async () => {
    const summary = await p.ingest([docs.dir, writeDocs('bulk', 6, 6000)]);
    expect(summary.queued).toBeGreaterThanOrEqual(20);
    await waitFor(
      'every document queued for embedding',
      async () => (await p.rt.queues.embed.getWaitingCount()) === summary.queued,
    );
    // 8 jobs per stage → 32 embed jobs at once in this process (supervisor gives embed 4×).
    embedWorkers = await startWorkers(p.rt, ['embed'], { concurrency: 8 });
    const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 60_000, intervalMs: 100 });
    expect(waited).toMatchObject({ timedOut: false, failed: 0, done: summary.queued });

    const [{ n: chunkRows } = { n: '0' }] = await p.query<{ n: string }>(
      'SELECT count(*) AS n FROM sluice.chunks',
    );
    expect(Number(chunkRows)).toBeGreaterThanOrEqual(200);
    const reqs = server.requests;
    expect(reqs.filter((r) => r.status !== 200)).toEqual([]);
    for (const r of reqs) {
      expect(r.inputs).toBeLessThanOrEqual(8);
      expect(r.tokens).toBeLessThanOrEqual(20_000);
      expect(r.maxInputTokens).toBeLessThanOrEqual(8191);
    }
    const inputs = reqs.reduce((n, r) => n + r.inputs, 0);
    const tokens = reqs.reduce((n, r) => n + r.tokens, 0);
    const minimum = Math.max(Math.ceil(tokens / 20_000), Math.ceil(inputs / 8));
    console.info(
      `packing: ${reqs.length} requests for ${inputs} inputs / ${tokens} tokens; minimum ${minimum}`,
    );
    expect(reqs.length).toBeLessThanOrEqual(minimum * 1.1);

    // Chunks were sized with the model's tokenizer: tokenCount is what the provider counts.
    // token_count counts what was embedded: the heading context, a blank line, the text.
    const sample = await p.query<{ text: string; token_count: number; context: string | null }>(
      `SELECT text, token_count, metadata->>'embed_context' AS context FROM sluice.chunks ORDER BY random() LIMIT 40`,
    );
    for (const c of sample)
      expect(c.token_count).toBe(serverTokens(c.context ? `${c.context}\n\n${c.text}` : c.text));

    // Counters: every chunk a miss, every text sent once, every request counted.
    const c = await counters(p);
    expect(c.embed_texts).toBe(inputs);
    expect(c.embed_cache_misses).toBe(Number(chunkRows));
    const embedRuns = await p.query<{ n: string }>(
      "SELECT count(*) AS n FROM sluice.stage_runs WHERE stage = 'embed'",
    );
    expect(Number(embedRuns[0]?.n)).toBe(summary.queued); // each embed job ran once
    expect(c.embed_cache_hits ?? 0).toBe(0);
    expect(c.embed_requests).toBe(reqs.length);
    const status = await runCli(['status', '--json'], { env: p.env });
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      embeddingCache: { hits: number; misses: number };
      embeddingProvider: { requests: number; tokens: number };
    };
    expect(report.embeddingCache).toMatchObject({ hits: 0, misses: Number(chunkRows) });
    expect(report.embeddingProvider).toMatchObject({ requests: reqs.length, tokens });
  });

  it('a 429 storm and 10% random 500s still end with every document done, with bounded retries', async () => {
    const before = { requests: server.requests.length, stats: p.rt.embedService.stats() };
    server.setOptions({ rateLimitNext: 6, stormRetryAfterSec: 0.3, errorRate: 0.1, seed: 3 });
    const summary = await p.ingest([writeDocs('storm', 20, 5000)]);
    const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 60_000, intervalMs: 100 });
    server.setOptions({ rateLimitNext: 0, errorRate: 0 });
    expect(waited).toMatchObject({ timedOut: false, failed: 0, done: 20 });

    const reqs = server.requests.slice(before.requests);
    const storm = reqs.filter((r) => r.reason === 'storm').length;
    const injected = reqs.filter((r) => r.reason === 'injected-500').length;
    const stats = p.rt.embedService.stats();
    const retries = stats.retries - before.stats.retries;
    console.info(
      `storm: ${reqs.length} requests, ${storm} × 429, ${injected} × 500, ${retries} retries, ${ok(reqs).length} ok`,
    );
    expect(storm).toBe(6);
    expect(injected).toBeGreaterThan(0);
    // Each 500 cost exactly one retry; 429s were deferred, never spent as attempts.
    expect(retries).toBe(injected);
    expect(stats.rateLimited - before.stats.rateLimited).toBe(6);
    expect(stats.failedRequests).toBe(0);
    const failedRuns = await p.query<{ n: string }>(
      "SELECT count(*) AS n FROM sluice.stage_runs WHERE outcome = 'failed'",
    );
    expect(Number(failedRuns[0]?.n)).toBe(0);
    const attempts = await p.query<{ max: number }>('SELECT max(attempts) AS max FROM sluice.documents');
    expect(attempts[0]?.max).toBe(1);
    const c = await counters(p);
    expect(c.embed_retries).toBe(retries);
    expect(c.embed_rate_limited).toBe(6);
    expect(c.embed_requests).toBe(server.requests.length);
  });

  it('an edited document re-embeds only its changed chunks', async () => {
    const target = join(docs.dir, 'docling-wiki.md');
    const cached = new Set(
      (await p.query<{ h: string }>('SELECT text_hash AS h FROM sluice.embedding_cache')).map((r) => r.h),
    );
    const c0 = await counters(p);
    const before = server.requests.length;
    appendFileSync(target, '\n\n## Zebra refunds\n\nA new closing section about striped refund policies.\n');
    const summary = await p.ingestAndWait([target]);
    expect(summary.queued).toBe(1);
    const hashes = (
      await p.query<{ h: string }>(
        'SELECT c.content_hash AS h FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id WHERE d.uri = $1',
        [target],
      )
    ).map((r) => r.h);
    const changed = new Set(hashes.filter((h) => !cached.has(h)));
    expect(changed.size).toBeGreaterThan(0);
    expect(changed.size).toBeLessThan(hashes.length);
    const reqs = server.requests.slice(before);
    expect(reqs.reduce((n, r) => n + r.inputs, 0)).toBe(changed.size);
    expect(reqs.length).toBe(Math.ceil(changed.size / 8));
    const c1 = await counters(p);
    expect(c1.embed_cache_misses! - c0.embed_cache_misses!).toBe(changed.size);
    expect(c1.embed_cache_hits! - (c0.embed_cache_hits ?? 0)).toBe(hashes.length - changed.size);
  });

  it('a model wider than 2,000 dimensions is stored and indexed as halfvec, and search finds a phrase', async () => {
    const wideServer = await startEmbedServer({ apiKey: KEY });
    const wide = await startPipeline({
      label: 'embed-wide',
      env: openaiEnv(wideServer, { SLUICE_EMBED_MODEL: 'text-embedding-3-large' }),
    });
    try {
      const files = ['deb-datatype-datetime.html', 'docling-wiki.md', 'tika-multi-language.txt'];
      const summary = await wide.ingestAndWait(files.map((f) => join(docs.dir, f)));
      expect(await statuses(wide)).toEqual({ done: summary.queued });
      const [gen] = await wide.query<{ dimensions: number; vector_type: string }>(
        'SELECT dimensions, vector_type FROM sluice.collection_generations',
      );
      expect(gen).toEqual({ dimensions: 3072, vector_type: 'halfvec' });
      const dims = await wide.query<{ d: number }>(
        'SELECT DISTINCT vector_dims(embedding) AS d FROM sluice.chunks',
      );
      expect(dims).toEqual([{ d: 3072 }]);
      const indexes = await wide.query<{ def: string }>(
        "SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'sluice' AND tablename = 'chunks' AND indexdef ILIKE '%hnsw%'",
      );
      expect(
        indexes.some((i) => i.def.includes('halfvec(3072)') && i.def.includes('halfvec_cosine_ops')),
      ).toBe(true);
      const res = await runCli(['search', 'Apparent solar time and mean solar time', '-k', '3', '--json'], {
        env: wide.env,
      });
      expect(res.stderr).toBe('');
      const out = JSON.parse(res.stdout) as { results: { uri: string }[] };
      expect(basename(out.results[0]!.uri)).toBe('deb-datatype-datetime.html');
    } finally {
      await wide.close();
      await wideServer.close();
    }
  });

  it('an invalid key pauses the embed stage with one clear error; a worker with the right key finishes the waiting documents', async () => {
    const keyServer = await startEmbedServer({ apiKey: 'right-key-42' });
    const bad = await startPipeline({
      label: 'embed-badkey',
      env: openaiEnv(keyServer, { OPENAI_API_KEY: 'wrong-key-13', SLUICE_EMBED_DIMENSIONS: '64' }),
      stages: ['extract', 'chunk'],
    });
    let fixed: ChildProcess | undefined;
    try {
      const summary = await bad.ingest([writeDocs('badkey', 6, 3000)]);
      await waitFor(
        'chunks queued for embedding',
        async () => (await bad.rt.queues.embed.getWaitingCount()) === 6,
      );
      const embed = await startWorkers(bad.rt, ['embed'], { concurrency: 4 });
      await waitFor('documents waiting on the embedder configuration', async () => {
        const rows = await bad.query<{ n: string }>(
          "SELECT count(*) AS n FROM sluice.documents WHERE status = 'processing' AND error_code = 'CONFIG_ERROR'",
        );
        return Number(rows[0]?.n) === 6;
      });
      await embed.close();
      await bad.workers?.close();
      expect(keyServer.requests.filter((r) => r.status === 401)).toHaveLength(1);

      const status = await runCli(['status', '--json'], { env: bad.env });
      expect(status.code).toBe(0);
      expect(status.stdout).not.toContain('wrong-key-13');
      const report = JSON.parse(status.stdout) as {
        documents: Record<string, Record<string, number>>;
        waitingOnConfig: number;
        recentFailures: unknown[];
      };
      expect(report.waitingOnConfig).toBe(6);
      expect(report.documents.default).toEqual({ processing: 6 });
      expect(report.recentFailures).toEqual([]);
      const messages = await bad.query<{ m: string }>(
        'SELECT DISTINCT error_message AS m FROM sluice.documents',
      );
      expect(messages).toHaveLength(1);
      expect(messages[0]!.m).toMatch(
        /^waiting: .*API key was rejected; set the right key .* in OPENAI_API_KEY/,
      );
      const text = await runCli(['status'], { env: bad.env });
      expect(text.stdout).toContain('waiting on embedder configuration: 6 document(s)');

      // The operator fixes the key and restarts the worker: the waiting documents finish.
      fixed = await spawnWorker({ ...bad.env, OPENAI_API_KEY: 'right-key-42', SLUICE_LOG_LEVEL: 'info' });
      children.push(fixed);
      const waited = await waitForDocuments(bad.rt, summary.waitIds, { timeoutMs: 60_000, intervalMs: 200 });
      expect(waited).toMatchObject({ timedOut: false, failed: 0, done: 6 });
      const after = await bad.query<{ code: string | null }>(
        'SELECT DISTINCT error_code AS code FROM sluice.documents',
      );
      expect(after).toEqual([{ code: null }]);
      expect(keyServer.requests.filter((r) => r.status === 401)).toHaveLength(1);
    } finally {
      if (fixed) await stop(fixed);
      await bad.close();
      await keyServer.close();
    }
  });

  it('an unknown model works (width from the first response); an over-long input fails only its document', async () => {
    const r = await unknownModel;
    expect(r.dimensions).toEqual([256]);
    expect(r.documents).toEqual([
      { uri: 'acme-0.md', status: 'done', code: null },
      { uri: 'acme-1.md', status: 'done', code: null },
      { uri: 'acme-2.md', status: 'done', code: null },
      { uri: 'acme-dense.md', status: 'failed', code: 'INPUT_TOO_LONG' },
    ]);
  });

  it('two worker processes sharing one SLUICE_EMBED_TPM budget never exceed it together', async () => {
    const r = await sharedBudget;
    expect(r.statuses).toEqual({ done: 8 });
    const total = ok(r.requests).reduce((n, q) => n + q.tokens, 0);
    const peak = peakTokens(r.requests, 60_000);
    console.info(
      `shared budget: ${total} tokens in ${r.requests.length} requests; peak per minute ${peak} of ${TPM}`,
    );
    expect(total).toBeGreaterThan(TPM); // the budget really was the bottleneck
    expect(r.requests.filter((q) => q.status === 429)).toEqual([]);
    expect(peak).toBeLessThanOrEqual(TPM);
    expect(r.counters.embed_requests).toBe(r.requests.length);
  }, 120_000);
});
