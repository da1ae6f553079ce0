// Issue 14 acceptance 2-4 with the `openai` embedder against the protocol test
// server (which counts every request and its cl100k tokens):
// - `ingest --dry-run` and `reindex --dry-run` send nothing, and their token
//   count is what the real run then sends;
// - a chunk-size change re-embeds only chunk texts that changed;
// - a model change re-extracts nothing (stage_runs);
// - a run budget of N tokens stops embedding at ≤ N and resumes when raised;
// - a daily budget (SLUICE_EMBED_BUDGET_TOKENS) holds live documents, and `status` says why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStatus } from '../../src/cli/build-status.ts';
import type { Config } from '../../src/config.ts';
import { retireGeneration } from '../../src/loaders/generation-switch.ts';
import { estimateIngest } from '../../src/queue/estimate.ts';
import { waitForDocuments } from '../../src/queue/producer.ts';
import { estimateReindex, startReindex, waitForBuild } from '../../src/queue/reindex.ts';
import { resolveInputs } from '../../src/sources/files.ts';
import { type EmbedServer, type RecordedRequest, startEmbedServer } from '../helpers/embed-server.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const KEY = 'test-key';
const WORDS =
  'river stone light paper quiet signal garden orbit metal cloud amber thread harbor lantern'.split(' ');
const scratch: string[] = [];
let server: EmbedServer;
let p: TestPipeline;
let dir: string;

/**
 * Markdown documents with short sections (one chunk whatever the chunk size, so
 * a chunk-size change keeps their text) and one long section each (re-chunked).
 * The first note also carries the document's title heading, which joins it.
 */
function writeDocs(tag: string, n: number): string {
  const d = mkdtempSync(join(tmpdir(), `sluice-reindex-${tag}-`));
  scratch.push(d);
  let x = 7;
  const sentence = (doc: number, s: number) => {
    const words = Array.from({ length: 10 }, () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return WORDS[x % WORDS.length];
    });
    return `${tag}${doc}s${s} ${words.join(' ')}.`;
  };
  for (let i = 0; i < n; i++) {
    let text = `# ${tag} document ${i}\n\n`;
    // Three sentences (~250 characters): above the small-section floor at either chunk
    // size (a fifth of it), below the smaller size, so the note is one chunk either way.
    for (let s = 0; s < 3; s++) {
      const note = [0, 1, 2].map((k) => sentence(i, s * 3 + k)).join(' ');
      text += `## Note ${s} of ${tag} ${i}\n\n${note}\n\n`;
    }
    // Headings are unique too: a text shared by documents embedded at the same moment
    // may be sent once per document (see README), which would blur the exact counts below.
    text += `## Long part of ${tag} ${i}\n\n`;
    for (let s = 10; s < 40; s++) text += `${sentence(i, s)} `;
    writeFileSync(join(d, `${tag}-${i}.md`), `${text}\n`);
  }
  return d;
}

const ok = (reqs: RecordedRequest[]) => reqs.filter((r) => r.status === 200);
const sum = (reqs: RecordedRequest[], f: (r: RecordedRequest) => number) =>
  ok(reqs).reduce((n, r) => n + f(r), 0);

beforeAll(async () => {
  server = await startEmbedServer({ apiKey: KEY });
  p = await startPipeline({
    label: 'reindex-cost',
    env: {
      SLUICE_EMBEDDER: 'openai',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      OPENAI_API_KEY: KEY,
      SLUICE_EMBED_MODEL: 'text-embedding-3-small',
      SLUICE_EMBED_DIMENSIONS: '64',
    },
  });
  dir = writeDocs('cost', 8);
});

afterAll(async () => {
  await p?.close();
  await server?.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

const target = (patch: Partial<Config>): Config => ({ ...p.config, ...patch });

async function stageRuns(generation: number | null): Promise<Record<string, number>> {
  const rows = await p.query<{ k: string; n: string }>(
    `SELECT stage || ':' || outcome AS k, count(*) AS n FROM sluice.stage_runs
     WHERE generation IS NOT DISTINCT FROM $1 GROUP BY 1`,
    [generation],
  );
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
}

async function chunkHashes(generation: number): Promise<Set<string>> {
  const rows = await p.query<{ h: string }>(
    'SELECT DISTINCT content_hash AS h FROM sluice.chunks WHERE generation = $1',
    [generation],
  );
  return new Set(rows.map((r) => r.h));
}

describe('cost before spending, and what a re-index re-does', () => {
  it('ingest --dry-run sends nothing, and its tokens are what the real ingest sends', async () => {
    const files = await resolveInputs([dir]);
    const est = await estimateIngest(p.rt, files, { collection: 'default' });
    expect(server.requests).toHaveLength(0);
    expect(est).toMatchObject({ files: 8, documents: 8, unchanged: 0, refused: 0, failures: [] });
    expect(est.cachedTokens).toBe(0);
    expect(est.tokensToEmbed).toBe(est.tokens);
    expect(est.pricePerMTok).toBe(0.02);
    expect(est.estimatedCost).toBeCloseTo((est.tokensToEmbed / 1e6) * 0.02, 12);
    // Nothing was recorded: no collection, no documents.
    expect(await p.query('SELECT 1 FROM sluice.documents')).toHaveLength(0);

    await p.ingestAndWait([dir]);
    expect(sum(server.requests, (r) => r.tokens)).toBe(est.tokensToEmbed);
    const [chunks] = await p.query<{ n: string }>('SELECT count(*) AS n FROM sluice.chunks');
    expect(Number(chunks?.n)).toBe(est.chunks);
    // The dry run filled the checkpoints: the real run extracted and chunked nothing again.
    // (Counted as 'done' runs: a job re-delivered after a stall records another 'skipped'.)
    const runs = await stageRuns(null);
    expect(runs['extract:skipped']).toBeGreaterThanOrEqual(8);
    expect(runs['chunk:skipped']).toBeGreaterThanOrEqual(8);
    expect(runs['extract:done']).toBeUndefined();
    expect(runs['chunk:done']).toBeUndefined();

    // Unchanged files: a second dry run has nothing to send.
    const again = await estimateIngest(p.rt, files, { collection: 'default' });
    expect(again).toMatchObject({ unchanged: 8, documents: 0, tokensToEmbed: 0 });
  });

  it('a chunk-size change re-embeds only the chunk texts that changed; its dry run says how many tokens', async () => {
    const before = server.requests.length;
    const settings = target({ chunkSize: 400, chunkOverlap: 50 });
    const est = await estimateReindex(p.rt, { collection: 'default', target: settings });
    expect(server.requests.length).toBe(before);

    const started = await startReindex(p.rt, { collection: 'default', target: settings });
    expect(started.generation).toBe(2);
    const built = await waitForBuild(p.rt, 'default', 2, { timeoutMs: 60_000 });
    expect(built.summary.state).toBe('ready');

    const g1 = await chunkHashes(1);
    const g2 = await chunkHashes(2);
    const changed = [...g2].filter((h) => !g1.has(h));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(g2.size); // the short sections kept their text
    const sent = server.requests.slice(before);
    expect(sum(sent, (r) => r.inputs)).toBe(changed.length);
    expect(sum(sent, (r) => r.tokens)).toBe(est.tokensToEmbed);
    expect(est.textsToEmbed).toBe(changed.length);
    expect(est.cachedTokens).toBeGreaterThan(0);
    const runs = await stageRuns(2);
    expect(runs['extract:skipped']).toBeGreaterThanOrEqual(8);
    expect(runs['extract:done']).toBeUndefined();
    expect(runs['embed:done']).toBe(8);
  });

  it('a model change re-extracts and re-chunks nothing (stage_runs), and embeds every text once', async () => {
    const before = server.requests.length;
    const settings = target({ embedModel: 'text-embedding-3-large', embedDimensions: 64 });
    const started = await startReindex(p.rt, { collection: 'default', target: settings });
    expect(started.generation).toBe(3);
    const built = await waitForBuild(p.rt, 'default', 3, { timeoutMs: 60_000 });
    expect(built.summary.state).toBe('ready');
    const runs = await stageRuns(3);
    expect(runs).toMatchObject({ 'embed:done': 8, 'load:done': 8 });
    expect(runs['extract:skipped']).toBeGreaterThanOrEqual(8);
    expect(runs['chunk:skipped']).toBeGreaterThanOrEqual(8);
    expect(runs['extract:done']).toBeUndefined();
    expect(runs['chunk:done']).toBeUndefined();
    const sent = ok(server.requests.slice(before));
    expect(new Set(sent.map((r) => r.model))).toEqual(new Set(['text-embedding-3-large']));
    expect(sum(sent, (r) => r.inputs)).toBe((await chunkHashes(1)).size);
    expect(await chunkHashes(3)).toEqual(await chunkHashes(1));
  });

  it('a run budget of N tokens stops embedding at ≤ N, says why, and resumes when raised', async () => {
    const settings = target({ embedDimensions: 32 });
    const est = await estimateReindex(p.rt, { collection: 'default', target: settings });
    const budget = Math.floor(est.tokensToEmbed * 0.4);
    const before = server.requests.length;
    const started = await startReindex(p.rt, {
      collection: 'default',
      target: settings,
      budgetTokens: budget,
    });
    const paused = await waitForBuild(p.rt, 'default', started.generation, { timeoutMs: 60_000 });
    expect(paused.paused).toMatch(/budget/);
    expect(paused.summary.state).toBe('building');
    const spent = sum(server.requests.slice(before), (r) => r.tokens);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(budget);
    const status = await buildStatus(p.rt.pool, p.config, 'default');
    const build = status.builds.find((b) => b.generation === started.generation);
    expect(build?.waitingReason).toMatch(/run budget .* is spent/);
    expect(build?.tokensEmbedded).toBe(spent);

    const resumed = await startReindex(p.rt, {
      collection: 'default',
      target: settings,
      budgetTokens: est.tokensToEmbed,
    });
    expect(resumed).toMatchObject({ generation: started.generation, resumed: true });
    const done = await waitForBuild(p.rt, 'default', started.generation, { timeoutMs: 60_000 });
    expect(done.summary.state).toBe('ready');
    expect(done.summary.documents).toMatchObject({ done: 8, failed: 0, pending: 0 });
    // Every text was sent exactly once: what the dry run said, not a token more.
    expect(sum(server.requests.slice(before), (r) => r.tokens)).toBe(est.tokensToEmbed);
  });

  it('a daily budget holds live documents (status says why) until it is raised', async () => {
    // Only the active generation now, so live ingestion is all the traffic there is.
    for (const g of [2, 3, 4]) await retireGeneration(p.rt.pool, 'default', g);
    const day = writeDocs('daily', 4);
    const files = await resolveInputs([day]);
    const est = await estimateIngest(p.rt, files, { collection: 'default' });
    const [spentRow] = await p.query<{ tokens: string }>(
      `SELECT tokens FROM sluice.embed_spend WHERE collection = 'default'`,
    );
    const spentSoFar = Number(spentRow?.tokens);
    p.rt.config.embedBudgetTokens = spentSoFar + Math.floor(est.tokensToEmbed / 2);
    const before = server.requests.length;
    const summary = await p.ingest([day]);
    await waitUntil('documents held by the budget', async () => {
      const s = await buildStatus(p.rt.pool, p.config, 'default');
      const [pending] = await p.query<{ n: string }>(
        `SELECT count(*) AS n FROM sluice.documents WHERE status IN ('queued', 'processing')
           AND (error_code IS NULL OR error_code <> 'BUDGET_EXCEEDED')`,
      );
      return s.budget.waiting > 0 && Number(pending?.n) === 0;
    });
    const held = await buildStatus(p.rt.pool, p.config, 'default');
    expect(held.budget.reason).toMatch(/today's embedding budget/);
    const spent = sum(server.requests.slice(before), (r) => r.tokens);
    expect(spent).toBeLessThanOrEqual(est.tokensToEmbed / 2);

    p.rt.config.embedBudgetTokens = spentSoFar + est.tokensToEmbed; // as after a restart with a raised value
    const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 60_000, intervalMs: 100 });
    expect(waited).toMatchObject({ pending: 0, failed: 0 });
    expect(sum(server.requests.slice(before), (r) => r.tokens)).toBe(est.tokensToEmbed);
    p.rt.config.embedBudgetTokens = undefined;
  });
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
