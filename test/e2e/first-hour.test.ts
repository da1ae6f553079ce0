// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// What a new user meets in the first hour (issue 12): exit codes that describe
// this run, commands that need only Postgres working without Redis, paths given
// the way `ingest` takes them, honest status and search output, one-line errors.
// In-process workers (the pipeline's) do the work; the CLI runs as a user runs it.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let folder: string;
const NO_REDIS = 'redis://127.0.0.1:1';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** Polls until no document is queued or processing (the in-process workers are done). */
async function settled(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [r] = await p.query<{ n: string }>(
      "SELECT count(*) AS n FROM sluice.documents WHERE status IN ('queued', 'processing')",
    );
    if (Number(r?.n) === 0) return;
    if (Date.now() > deadline) throw new Error('documents still in flight');
    await new Promise((res) => setTimeout(res, 100));
  }
}

function noStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
}

beforeAll(async () => {
  p = await startPipeline({ label: 'first-hour' });
  scratch = scratchDir('first-hour');
  folder = join(scratch.dir, 'docs');
  mkdirSync(folder);
  copyFileSync(join(FIXTURES, 'md', 'docling-wiki.md'), join(folder, 'wiki.md'));
  copyFileSync(join(FIXTURES, 'txt', 'deb-dedication-9.0.txt'), join(folder, 'dedication.txt'));
  writeFileSync(join(folder, 'empty.txt'), '   \n');
  writeFileSync(join(folder, 'blank.md'), '\n\n');
  // The first run: two documents fail (NO_TEXT); exit 1 is right for this run.
  const first = await runCli(['ingest', folder, '--wait', '--json'], { env: p.env });
  expect(first.code).toBe(1);
});

afterAll(async () => {
  await p?.close();
  scratch?.cleanup();
});

describe('ingest --wait reports this run', () => {
  it('re-running on an unchanged folder queues nothing and exits 0; old failures are one pointer line', async () => {
    const res = await runCli(['ingest', folder, '--wait'], { env: p.env });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('0 queued, 4 unchanged');
    expect(res.stderr).toContain('this run: 0 done');
    expect(res.stderr).toContain('2 unchanged document(s) failed in an earlier run');
    expect(res.stderr).toContain('sluice retry --failed');
    expect(res.stderr).not.toMatch(/^\s+failed /m);
    expect(res.stderr).not.toContain('NaN');
    const json = await runCli(['ingest', folder, '--wait', '--json'], { env: p.env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ queued: 0, failed: 0, earlierFailed: 2, failures: [] });
  });

  it('a changed file that now fails is this run’s failure: exit 1, named', async () => {
    const extra = join(scratch.dir, 'later.txt');
    writeFileSync(extra, '\n');
    const res = await runCli(['ingest', extra, '--wait'], { env: p.env });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/failed .*later\.txt: NO_TEXT/);
  });
});

describe('search tells the truth', () => {
  it('an empty or blank query is a usage error (exit 2), not NaN scores', async () => {
    for (const q of ['', '   ', '?!']) {
      const res = await runCli(['search', q], { env: p.env });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('the query is empty');
      expect(res.stdout).not.toContain('NaN');
    }
  });

  it('with the hash embedder a query with no known word scores 0 and is flagged as no match', async () => {
    const res = await runCli(['search', 'xylophagous quuxbarian zorblatt', '--json'], { env: p.env });
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { weak: boolean; results: { score: number }[] };
    expect(out.results.length).toBeGreaterThan(0);
    for (const r of out.results) expect(r.score).toBeLessThan(0.01);
    expect(out.weak).toBe(true);
    const text = await runCli(['search', 'xylophagous quuxbarian zorblatt'], { env: p.env });
    expect(text.stderr).toContain('nothing here looks like a match');
  });

  it('a genuine query scores well above a nonsense one and is not flagged', async () => {
    const res = await runCli(['search', 'International Business Machines', '--json'], { env: p.env });
    const out = JSON.parse(res.stdout) as { weak: boolean; results: { score: number; uri: string }[] };
    expect(out.results[0]?.uri).toContain('wiki.md');
    expect(out.results[0]?.score).toBeGreaterThan(0.1);
    expect(out.weak).toBe(false);
  });

  it('works without Redis (it reads Postgres only)', async () => {
    const res = await runCli(['search', 'International Business Machines'], {
      env: { ...p.env, REDIS_URL: NO_REDIS },
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('wiki.md');
  });
});

describe('status', () => {
  it('lists failures with "N more", and without Redis still shows documents, then exits 2 in one line', async () => {
    const res = await runCli(['status', '--failures', '1'], { env: p.env });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/… and 2 more/);
    expect(res.stdout).toContain('queues (waiting/active/delayed):');
    const down = await runCli(['status'], { env: { ...p.env, REDIS_URL: NO_REDIS } });
    expect(down.code).toBe(2);
    expect(down.stdout).toContain('failed 3');
    expect(down.stdout).toContain('queues: unavailable');
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).not.toContain('..');
    noStack(down.stderr);
  });

  it('a collection that does not exist is an error (exit 2), as in search', async () => {
    const res = await runCli(['status', '--collection', 'nosuch'], { env: p.env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('collection "nosuch" does not exist');
  });

  it('says the cache and provider counters cover all collections when one is chosen', async () => {
    const res = await runCli(['status', '--collection', 'default'], { env: p.env });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('embedding cache (all collections)');
  });
});

describe('delete and retry take paths the way ingest does', () => {
  it('retry: a relative path works; a done document is not re-queued; unknown refs are named', async () => {
    const res = await runCli(['retry', 'docs/empty.txt', 'docs/wiki.md', 'docs/nope.md', '--json'], {
      env: p.env,
      cwd: scratch.dir,
    });
    expect(res.code).toBe(2);
    const out = JSON.parse(res.stdout) as { retried: number[]; notFound: string[] };
    expect(out.retried).toHaveLength(1);
    expect(out.notFound).toEqual(['docs/nope.md']);
    expect(res.stderr).toMatch(/wiki\.md is done, not failed: nothing to retry/);
    expect(res.stderr).toContain('not found in collection "default": docs/nope.md');
    await settled();
  });

  it('retry --failed --wait waits for the re-queued documents and reports them', async () => {
    const res = await runCli(['retry', '--failed', '--wait', '--timeout', '120'], { env: p.env });
    expect(res.code).toBe(1); // they fail again: still empty
    expect(res.stderr).toMatch(/this run: 0 done.*failed: 3/);
  });

  it('delete: relative paths, works without Redis, names every ref not found', async () => {
    const res = await runCli(
      ['delete', 'docs/dedication.txt', 'docs/missing-one.txt', 'docs/missing-two.txt'],
      {
        env: { ...p.env, REDIS_URL: NO_REDIS },
        cwd: scratch.dir,
      },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('1 document(s) deleted');
    expect(res.stderr).toContain(
      'not found in collection "default": docs/missing-one.txt, docs/missing-two.txt',
    );
    const [row] = await p.query<{ status: string }>(
      "SELECT status FROM sluice.documents WHERE uri LIKE '%dedication.txt'",
    );
    expect(row?.status).toBe('deleted');
  });
});

describe('run reports only its own documents', () => {
  it('says when jobs from an earlier ingest are queued too, and summarises only this run', async () => {
    // Its own queue prefix: the in-process workers of this file never see these jobs.
    const prefix = `fh-run-${process.pid}`;
    const env = { ...p.env, SLUICE_QUEUE_PREFIX: prefix };
    const a = join(scratch.dir, 'left-over.txt');
    const b = join(scratch.dir, 'mine.txt');
    writeFileSync(a, 'A leftover document about tide tables and harbour pilots.');
    writeFileSync(b, 'This run’s own document about lighthouse lenses.');
    try {
      expect((await runCli(['ingest', a, '--collection', 'A'], { env })).code).toBe(0);
      const res = await runCli(['run', b, '--collection', 'B', '--json'], { env });
      expect(res.code).toBe(0);
      expect(res.stderr).toContain('1 job(s) from earlier ingests are queued too');
      const out = JSON.parse(res.stdout) as { files: number; done: number; failed: number };
      expect(out).toMatchObject({ files: 1, done: 1, failed: 0 });
    } finally {
      const keys = (await p.rt.redis?.keys(`${prefix}:*`)) ?? [];
      if (keys.length > 0) await p.rt.redis?.del(...keys);
    }
  });
});

describe('a wrong embedder URL', () => {
  it('ingest --wait says at once that the embed stage is paused by the setting', async () => {
    // A port with nothing listening: the stand-in for a mistyped OPENAI_BASE_URL.
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as { port: number };
    await new Promise<void>((r) => srv.close(() => r()));
    const prefix = `fh-url-${process.pid}`;
    const env = {
      ...p.env,
      SLUICE_QUEUE_PREFIX: prefix,
      SLUICE_COLLECTION: 'remote',
      SLUICE_EMBEDDER: 'openai',
      OPENAI_API_KEY: 'sk-test-0123456789',
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    };
    const file = join(scratch.dir, 'remote.txt');
    writeFileSync(file, 'A document for a remote embedder that is not there.');
    const empty = join(scratch.dir, 'remote-empty.txt');
    writeFileSync(empty, ' ');
    const worker = await spawnWorker(env);
    let workerLog = '';
    worker.stderr?.on('data', (d) => (workerLog += d));
    try {
      const res = await runCli(['ingest', file, empty, '--wait', '--timeout', '20'], { env });
      // Worker warnings name the file, not only its id.
      expect(workerLog).toMatch(/extract failed for document \d+ \(.*remote-empty\.txt\)/);
      expect(res.code).toBe(2); // one document still waiting when the timeout ends
      expect(res.stderr).toContain('embedding is paused by a configuration error');
      expect(res.stderr).toContain(`127.0.0.1:${port} cannot be reached (ECONNREFUSED)`);
      expect(res.stderr).toContain('check OPENAI_BASE_URL');
    } finally {
      worker.kill('SIGTERM');
      await waitExit(worker);
      const keys = (await p.rt.redis?.keys(`${prefix}:*`)) ?? [];
      if (keys.length > 0) await p.rt.redis?.del(...keys);
    }
  });
});

describe('errors and checks', () => {
  it('--verbose prints the error line once, then the stack', async () => {
    const res = await runCli(['--verbose', 'status'], {
      env: { ...p.env, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/x' },
    });
    expect(res.code).toBe(2);
    expect(res.stderr.match(/cannot reach Postgres/g)).toHaveLength(1);
    expect(res.stderr).toMatch(/\n\s+at /);
  });

  it('doctor says which mode the database and the queue are in, in text and JSON', async () => {
    const res = await runCli(['doctor'], { env: p.env });
    expect(res.stdout.split('\n').slice(0, 2)).toEqual([
      'mode database   server (127.0.0.1:5432)',
      'mode queue      redis (127.0.0.1:6379)',
    ]);
    const json = await runCli(['doctor', '--json'], { env: p.env });
    expect(JSON.parse(json.stdout)).toMatchObject({
      modes: {
        database: { kind: 'server', where: '127.0.0.1:5432' },
        queue: { kind: 'redis', where: '127.0.0.1:6379' },
      },
      skipped: [],
    });
  });

  it('doctor reports Redis appendonly, as the README promises', async () => {
    const res = await runCli(['doctor', '--json'], { env: p.env });
    const out = JSON.parse(res.stdout) as {
      checks: { name: string; detail: string }[];
      warnings: { name: string; detail: string }[];
    };
    const redis = out.checks.find((c) => c.name === 'redis');
    expect(redis?.detail).toMatch(/appendonly (yes|no)/);
    // The shared test Redis runs without appendonly: doctor must say so.
    if (redis?.detail.includes('appendonly no')) {
      expect(out.warnings.map((w) => w.detail).join()).toContain('Set appendonly yes');
    }
  });
});
