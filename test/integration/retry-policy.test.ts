// Issue #15: one retry policy. The worker counts a job's tries against the job's
// own attempts (not today's SLUICE_ATTEMPTS), and a persistent provider 5xx costs
// SLUICE_ATTEMPTS requests per batch in all, not attempts × attempts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobId, payloadFor, STAGES } from '../../src/queue/jobs.ts';
import { startWorkers } from '../../src/queue/supervisor.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { type EmbedServer, startEmbedServer } from '../helpers/embed-server.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

let scratch: ReturnType<typeof scratchDir>;

beforeAll(() => {
  scratch = scratchDir('retry-policy');
});

afterAll(() => {
  scratch?.cleanup();
});

/**
 * Makes the extract stage's checkpoint write fail `times` more times (a real
 * Postgres error, retryable like any unknown one); -1 fails it for good.
 */
async function failExtractCheckpoint(p: TestPipeline, times: number): Promise<void> {
  // A sequence, since a raised exception rolls back any counter kept in a table.
  const limit = times < 0 ? 'true' : `nextval('public.fault_seq') <= ${times}`;
  await p.query(`
    CREATE SEQUENCE IF NOT EXISTS public.fault_seq;
    CREATE OR REPLACE FUNCTION public.fail_extract() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.stage = 'extract' AND NEW.outcome <> 'failed' AND ${limit} THEN
        RAISE EXCEPTION 'injected checkpoint failure';
      END IF;
      RETURN NEW;
    END $$;
    CREATE OR REPLACE TRIGGER fail_extract BEFORE INSERT ON sluice.stage_runs
      FOR EACH ROW EXECUTE FUNCTION public.fail_extract();`);
}

/** Ingests one file without workers and replaces its extract job by one with `attempts` tries. */
async function queueWithAttempts(p: TestPipeline, name: string, attempts: number): Promise<number> {
  writeFileSync(join(scratch.dir, name), `the document ${name}, retried a set number of times`);
  const summary = await p.ingest([join(scratch.dir, name)]);
  const id = summary.ids[0]!;
  const [doc] = await p.query<{ id: string; content_hash: string; collection: string; uri: string }>(
    'SELECT id, content_hash, collection, uri FROM sluice.documents WHERE id = $1',
    [id],
  );
  const payload = payloadFor(doc!);
  await p.rt.queues.extract.remove(jobId('extract', payload));
  await p.rt.queues.extract.add('extract', payload, { jobId: jobId('extract', payload), attempts });
  return id;
}

async function docState(p: TestPipeline, id: number) {
  const [doc] = await p.query<{ status: string; attempts: number; error_code: string | null }>(
    'SELECT status, attempts, error_code FROM sluice.documents WHERE id = $1',
    [id],
  );
  return doc!;
}

describe("a job's own attempts decide its final try", () => {
  it('a job with fewer attempts than SLUICE_ATTEMPTS ends its document failed when BullMQ gives up', async () => {
    const p = await startPipeline({ label: 'attempts-fewer', stages: [], env: { SLUICE_ATTEMPTS: '6' } });
    try {
      await failExtractCheckpoint(p, -1);
      const id = await queueWithAttempts(p, 'fewer.txt', 2);
      const workers = await startWorkers(p.rt, [...STAGES], { concurrency: 2 });
      try {
        const job = await until('the extract job to fail for good', async () =>
          (await p.rt.queues.extract.getFailed()).find((f) => f.data.documentId === id),
        );
        expect(job.attemptsMade).toBe(2);
        // The failure is recorded in the same processor call that BullMQ's last try ran.
        expect(await docState(p, id)).toMatchObject({
          status: 'failed',
          attempts: 2,
          error_code: 'INTERNAL',
        });
      } finally {
        await workers.close();
      }
    } finally {
      await p.close();
    }
  });

  it('a job with more attempts than SLUICE_ATTEMPTS keeps its document in flight and ends done', async () => {
    const p = await startPipeline({ label: 'attempts-more', stages: [], env: { SLUICE_ATTEMPTS: '2' } });
    try {
      await failExtractCheckpoint(p, 2);
      const id = await queueWithAttempts(p, 'more.txt', 3);
      const workers = await startWorkers(p.rt, [...STAGES], { concurrency: 2 });
      try {
        const doc = await until('the document to settle', async () => {
          const d = await docState(p, id);
          return d.status === 'done' || d.status === 'failed' ? d : undefined;
        });
        expect(doc).toMatchObject({ status: 'done', attempts: 3, error_code: null });
      } finally {
        await workers.close();
      }
    } finally {
      await p.close();
    }
  });
});

describe('a persistent provider 5xx', () => {
  let server: EmbedServer;
  beforeAll(async () => {
    server = await startEmbedServer({});
  });
  afterAll(async () => {
    await server?.close();
  });

  it('costs SLUICE_ATTEMPTS requests for the batch in all, then fails the document once', async () => {
    const p = await startPipeline({
      label: 'retry-5xx',
      env: {
        SLUICE_EMBEDDER: 'openai',
        OPENAI_BASE_URL: server.openaiBaseUrl,
        OPENAI_API_KEY: 'sk-test-key',
        SLUICE_EMBED_MODEL: 'text-embedding-3-small',
        SLUICE_ATTEMPTS: '3',
        SLUICE_BACKOFF_MS: '50',
      },
    });
    try {
      server.setOptions({ errorRate: 1 });
      writeFileSync(join(scratch.dir, 'five-hundred.txt'), 'a short document the provider never embeds');
      const summary = await p.ingest([join(scratch.dir, 'five-hundred.txt')]);
      const id = summary.ids[0]!;
      const doc = await until('the document to fail', async () => {
        const d = await docState(p, id);
        return d.status === 'failed' ? d : undefined;
      });
      expect(doc.error_code).toBe('PROVIDER_ERROR');
      // Counted once BullMQ is done with the job too: no retry of it is still to come.
      await until('the embed job to fail for good', async () =>
        (await p.rt.queues.embed.getFailed()).find((f) => f.data.documentId === id),
      );
      expect(server.requests.filter((r) => r.status >= 500)).toHaveLength(3);
      expect(server.requests).toHaveLength(3);
    } finally {
      server.setOptions({ errorRate: 0 });
      await p.close();
    }
  });
});
