// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// `sluice run` as a user meets it (issue 9): the first line names the database and
// queue modes; Ctrl-C (SIGINT) mid-run stops cleanly — jobs in hand finish, nothing
// stays locked, exit 2 with a summary saying how to resume — and running the same
// command again finishes every document without redoing a stage that had completed
// (each (document, stage) has exactly one 'done' row in sluice.stage_runs).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../src/queue/jobs.ts';
import { runCli, SLUICE_BIN, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const DOCS = 300;
let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let folder: string;

/** A few paragraphs under two headings: several chunks, so every stage has work. */
function document(i: number): string {
  const para = (n: number) =>
    `Paragraph ${n} of report ${i} about canal locks, sluice gates and the water level at station ${i * 7 + n}. `.repeat(
      6,
    );
  return `# Report ${i}\n\n${para(1)}\n\n## Findings\n\n${para(2)}\n\n${para(3)}\n`;
}

async function count(sql: string): Promise<number> {
  const [r] = await p.query<{ n: string }>(sql);
  return Number(r?.n);
}

/** 'done' stage runs per (document, stage). */
async function completedRuns(): Promise<Map<string, number>> {
  const rows = await p.query<{ k: string; n: string }>(
    `SELECT document_id || ':' || stage AS k, count(*) AS n FROM sluice.stage_runs
     WHERE outcome = 'done' GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.k, Number(r.n)]));
}

beforeAll(async () => {
  p = await startPipeline({ label: 'run-sigint', stages: [] });
  scratch = scratchDir('run-sigint');
  folder = join(scratch.dir, 'docs');
  mkdirSync(folder);
  for (let i = 0; i < DOCS; i++) writeFileSync(join(folder, `report-${i}.md`), document(i));
});

afterAll(async () => {
  await p?.close();
  scratch?.cleanup();
});

describe('sluice run: Ctrl-C, then run again', () => {
  it('stops cleanly mid-run, then resumes without redoing completed stages', async () => {
    // Concurrency 1 keeps the run long enough to interrupt it part-way.
    const env = { ...p.env, SLUICE_CONCURRENCY: '1', PATH: process.env.PATH ?? '', LANG: 'C.UTF-8' };
    const child = spawn(process.execPath, [SLUICE_BIN, 'run', folder, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await until(
        'some documents done',
        async () => (await count("SELECT count(*) AS n FROM sluice.documents WHERE status = 'done'")) >= 10,
      );
      child.kill('SIGINT');
      const code = await waitExit(child);

      // A clean stop: exit 2 (the run did not finish), a summary, no stack, not killed by the signal.
      expect(code, stderr).toBe(2);
      expect(stderr.split('\n')[0]).toMatch(
        /^database: (server|embedded) \(.+\) · queue: (redis|postgres) \(.+\)$/,
      );
      expect(stderr).toContain('interrupted');
      expect(stderr).toContain('run the same command again to resume');
      expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
      const summary = JSON.parse(stdout) as { interrupted: boolean; done: number; pending: number };
      expect(summary.interrupted).toBe(true);
      expect(summary.pending).toBeGreaterThan(0); // it really stopped part-way
      expect(summary.done).toBeGreaterThanOrEqual(10);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    // Jobs in hand were finished or handed back: none is left active (locked by the gone process).
    for (const stage of STAGES) expect(await p.rt.queues[stage].getActiveCount(), stage).toBe(0);
    const before = await completedRuns();
    expect(before.size).toBeGreaterThan(0);
    const pending = await count(
      "SELECT count(*) AS n FROM sluice.documents WHERE status IN ('queued', 'processing')",
    );
    expect(pending).toBeGreaterThan(0);

    // The same command again: every document ends done; no completed stage is redone.
    const again = await runCli(['run', folder, '--json'], { env: p.env, timeoutMs: 170_000 });
    expect(again.code, again.stderr).toBe(0);
    const resumed = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(resumed).toMatchObject({
      interrupted: false,
      failed: 0,
      modes: { database: { kind: expect.any(String) }, queue: { kind: expect.any(String) } },
    });
    expect(resumed.docsPerSecond).toBeGreaterThan(0);
    const statuses = await p.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM sluice.documents GROUP BY status',
    );
    expect(statuses).toEqual([{ status: 'done', n: String(DOCS) }]);
    const after = await completedRuns();
    expect(after.size).toBe(DOCS * STAGES.length);
    for (const [key, n] of after) expect(n, key).toBe(1);
    for (const key of before.keys()) expect(after.get(key), key).toBe(1);
  });
});
