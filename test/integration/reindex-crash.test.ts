// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Issue 14 acceptance 5: a worker process SIGKILLed in the middle of a re-index
// (inside the chunk, embed or load stage of a build job), then another started:
// the build finishes with every document, identical to a clean build, and no
// stage that had completed for the new generation is redone (sluice.stage_runs).
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { STAGES } from '../../src/queue/jobs.ts';
import { startReindex, waitForBuild } from '../../src/queue/reindex.ts';
import { startWorkers } from '../../src/queue/supervisor.ts';
import { spawnWorker, waitExit } from '../helpers/cli.ts';
import { copyTextFixtures } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

let docs: ReturnType<typeof copyTextFixtures>;
let reference: Map<string, string>;

/** The new settings: another width and chunk size, so chunk, embed and load all do real work. */
const newSettings = (c: Config): Config => ({ ...c, chunkSize: 600, chunkOverlap: 80, embedDimensions: 256 });

/** A pipeline whose collection holds the corpus at generation 1 (ingested by in-process workers). */
async function ingested(label: string): Promise<TestPipeline> {
  const p = await startPipeline({ label, stages: [] });
  const workers = await startWorkers(p.rt, [...STAGES], { concurrency: 4 });
  try {
    await p.ingestAndWait([docs.dir]);
  } finally {
    await workers.close();
  }
  return p;
}

async function generationChunks(p: TestPipeline, generation: number): Promise<Map<string, string>> {
  const rows = await p.query<{ uri: string; h: string }>(
    `SELECT d.uri, string_agg(c.content_hash, ',' ORDER BY c.ordinal) AS h
     FROM sluice.documents d JOIN sluice.chunks c ON c.document_id = d.id
     WHERE c.generation = $1 GROUP BY d.uri`,
    [generation],
  );
  return new Map(rows.map((r) => [r.uri, r.h]));
}

/** Count of 'done' stage runs of generation 2 per (document, stage). */
async function completedRuns(p: TestPipeline): Promise<Map<string, number>> {
  const rows = await p.query<{ k: string; n: string }>(
    `SELECT document_id || ':' || stage AS k, count(*) AS n FROM sluice.stage_runs
     WHERE outcome = 'done' AND generation = 2 GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.k, Number(r.n)]));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  docs = copyTextFixtures();
  // A clean re-index of the same folder: what every crashed build must end up with.
  const clean = await ingested('reindex-crash-ref');
  const workers = await startWorkers(clean.rt, [...STAGES], { concurrency: 4 });
  try {
    await startReindex(clean.rt, { collection: 'default', target: newSettings(clean.config) });
    const built = await waitForBuild(clean.rt, 'default', 2, { timeoutMs: 120_000 });
    expect(built.summary.state).toBe('ready');
    reference = await generationChunks(clean, 2);
  } finally {
    await workers.close();
    await clean.close();
  }
}, 300_000); // two full runs of the corpus (ingest, re-index)

afterAll(() => docs?.cleanup());

describe.each([
  { stage: 'chunk', when: 'before' },
  { stage: 'embed', when: 'after' },
  { stage: 'load', when: 'before' },
] as const)('SIGKILL $when the work of the $stage stage of a re-index', ({ stage, when }) => {
  it('finishes the build, identical to a clean one, completed stages not redone', async () => {
    const p = await ingested(`reindex-crash-${stage}`);
    let victim: ChildProcess | undefined;
    let rescuer: ChildProcess | undefined;
    try {
      victim = await spawnWorker({ ...p.env, SLUICE_FAULT_INJECTION: `${stage}:${when}:60000` });
      await startReindex(p.rt, { collection: 'default', target: newSettings(p.config) });
      await waitFor(`build documents inside ${stage}`, async () => {
        const [r] = await p.query<{ n: string }>(
          `SELECT count(*) AS n FROM sluice.generation_documents
           WHERE generation = 2 AND status = 'processing' AND stage = $1`,
          [stage],
        );
        if (when === 'before') return Number(r?.n) > 0;
        // 'after': vectors stored for the new width, but no embed run recorded yet.
        const [v] = await p.query<{ n: string }>(
          `SELECT count(*) AS n FROM sluice.embedding_cache WHERE model_key LIKE '%:256'`,
        );
        const [s] = await p.query<{ n: string }>(
          `SELECT count(*) AS n FROM sluice.stage_runs WHERE generation = 2 AND stage = 'embed'`,
        );
        return Number(v?.n) > 0 && Number(s?.n) === 0;
      });
      const completedBeforeKill = await completedRuns(p);
      victim.kill('SIGKILL');
      await waitExit(victim);

      rescuer = await spawnWorker(p.env);
      const built = await waitForBuild(p.rt, 'default', 2, { timeoutMs: 90_000 });
      expect(built.summary.state).toBe('ready');
      expect(built.summary.documents).toMatchObject({ done: docs.files.length, failed: 0, pending: 0 });
      expect(await generationChunks(p, 2)).toEqual(reference);
      const widths = await p.query<{ dims: number }>(
        'SELECT DISTINCT vector_dims(embedding) AS dims FROM sluice.chunks WHERE generation = 2',
      );
      expect(widths).toEqual([{ dims: 256 }]);
      // Generation 1, which searches read throughout, is untouched.
      const [g1] = await p.query<{ active_generation: number }>(
        `SELECT active_generation FROM sluice.collections WHERE name = 'default'`,
      );
      expect(g1?.active_generation).toBe(1);

      const after = await completedRuns(p);
      for (const n of after.values()) expect(n).toBe(1);
      for (const key of completedBeforeKill.keys()) expect(after.get(key)).toBe(1);
    } finally {
      victim?.kill('SIGKILL');
      rescuer?.kill('SIGTERM');
      if (rescuer) await waitExit(rescuer);
      await p.close();
    }
  }, 240_000); // an ingest, worker starts, lock expiry, and the build
});
