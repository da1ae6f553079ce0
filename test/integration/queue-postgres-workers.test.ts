// The Postgres queue counts the workers consuming a stage, on a Postgres server
// (pg_stat_activity) and on the embedded database, whose one session leaves
// pg_stat_activity empty: there every worker is in this process, so it counts those.
// `sluice retry`, `report` and the dashboard's "No worker is consuming stage …" rely on it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../src/queue/jobs.ts';
import { startWorkers } from '../../src/queue/supervisor.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

describe('workers on the Postgres queue', () => {
  let a: TestPipeline;
  let b: TestPipeline;

  beforeAll(async () => {
    a = await startPipeline({ label: 'pgw-a', queue: 'postgres', stages: ['extract', 'chunk'] });
    // Install b: the same database, its own queue prefix, no workers.
    b = await startPipeline({ label: 'pgw-b', queue: 'postgres', stages: [], database: a.db });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('are counted per stage and per install', async () => {
    const counts = async (p: TestPipeline) =>
      Promise.all(STAGES.map((stage) => p.rt.queues[stage].getWorkersCount()));
    expect(await counts(a)).toEqual([1, 1, 0, 0]);
    expect(await counts(b)).toEqual([0, 0, 0, 0]);
  });

  it('stop being counted once closed', async () => {
    const extra = await startWorkers(b.rt, ['embed'], { concurrency: 1 });
    expect(await b.rt.queues.embed.getWorkersCount()).toBe(1);
    await extra.close();
    expect(await b.rt.queues.embed.getWorkersCount()).toBe(0);
  });
});
