// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// The reconciler's sweep lease kept in Postgres (the queue on Postgres): one
// holder at a time across pools and processes, never released or extended by
// someone who no longer holds it, taken over once a SIGKILLed holder's lease
// runs out, and given up by a sweep that fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { reconcile } from '../../src/queue/reconcile.ts';
import type { Runtime } from '../../src/queue/runtime.ts';
import { tryPostgresLease } from '../../src/queue/sweep-lock-postgres.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

let p: TestPipeline;
let other: Pool;
let scratch: ReturnType<typeof scratchDir>;
let child: ChildProcess | undefined;

beforeAll(async () => {
  p = await startPipeline({ label: 'pglease', stages: [] });
  other = createPool(p.db.url, { max: 4 });
  scratch = scratchDir('pglease');
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await other?.end();
  await p?.close();
  scratch?.cleanup();
});

const holder = async (name: string) =>
  (await p.query<{ token: string }>('SELECT token FROM sluice.leases WHERE name = $1', [name]))[0]?.token;

describe('sweep lease on Postgres', () => {
  it('two pools contend for it and exactly one wins', async () => {
    const tries = await Promise.all(
      Array.from({ length: 10 }, (_, i) => tryPostgresLease(i % 2 ? other : p.rt.pool, 'contend', 60_000)),
    );
    expect(tries.filter(Boolean)).toHaveLength(1);
    await tries.find(Boolean)!.release();
    expect(await holder('contend')).toBeUndefined();
  });

  it('a holder whose lease lapsed and was taken neither releases nor extends the new one', async () => {
    const lapsed = await tryPostgresLease(p.rt.pool, 'lapse', 200);
    expect(lapsed).toBeDefined();
    const taker = await until(
      'the lapsed lease to be taken',
      () => tryPostgresLease(other, 'lapse', 60_000),
      {
        intervalMs: 50,
      },
    );
    const token = await holder('lapse');
    await lapsed!.release();
    expect(await lapsed!.extend()).toBe(false);
    expect(await holder('lapse')).toBe(token);
    expect(await tryPostgresLease(p.rt.pool, 'lapse', 60_000)).toBeUndefined();
    expect(await taker.extend()).toBe(true);
    await taker.release();
    expect(await holder('lapse')).toBeUndefined();
  });

  it('is taken over once its holder is SIGKILLed and its lease runs out', async () => {
    const src = (f: string) => JSON.stringify(fileURLToPath(new URL(`../../src/${f}`, import.meta.url)));
    // The holder keeps extending, as a sweep does between pages, until it is killed.
    const code = `
      const { createPool } = await import(${src('db/pool.ts')});
      const { tryPostgresLease } = await import(${src('queue/sweep-lock-postgres.ts')});
      const pool = createPool(${JSON.stringify(p.db.url)}, { max: 1 });
      const lease = await tryPostgresLease(pool, 'killed', 3000);
      console.log(lease ? 'held' : 'refused');
      setInterval(() => lease?.extend(), 300);`;
    child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until('the child to hold the lease', () => out.includes('held'));
    expect(out.trim()).toBe('held');
    expect(await tryPostgresLease(p.rt.pool, 'killed', 60_000)).toBeUndefined();
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    child = undefined;
    const lease = await until('the dead holder’s lease to run out', () =>
      tryPostgresLease(p.rt.pool, 'killed', 60_000),
    );
    await lease.release();
  });
});

describe('the reconciler on the Postgres lease', () => {
  // The runtime as it is when the queue runs on Postgres: its leases are sluice.leases rows.
  const onPostgres = () =>
    ({
      ...p.rt,
      redis: undefined,
      queue: {
        ...p.rt.queue,
        tryLease: (name: string, ttlMs: number) =>
          tryPostgresLease(p.rt.pool, `${p.config.queuePrefix}:${name}`, ttlMs),
      },
    }) as unknown as Runtime;
  const lockKey = () => `${p.config.queuePrefix}:reconcile-lock`;

  // A document in flight with no job: any sweep that runs checks it.
  beforeAll(async () => {
    writeFileSync(join(scratch.dir, 'lease.txt'), 'a document in flight whose job is gone');
    await p.ingest([join(scratch.dir, 'lease.txt')]);
    await p.rt.queues.extract.obliterate({ force: true });
    await p.query(`UPDATE sluice.documents SET updated_at = now() - interval '1 hour'`);
  });

  it('skips its sweep while another holds the lease', async () => {
    const held = await tryPostgresLease(other, lockKey(), 60_000);
    expect(held).toBeDefined();
    try {
      expect(await reconcile(onPostgres(), { staleMs: 60_000 })).toEqual({
        checked: 0,
        requeued: 0,
        failed: 0,
      });
    } finally {
      await held!.release();
    }
  });

  it('releases the lease when a sweep fails, so the next sweep runs at once', async () => {
    await p.query('ALTER TABLE sluice.documents RENAME TO documents_away');
    try {
      await expect(reconcile(onPostgres(), { staleMs: 60_000 })).rejects.toThrow(/documents/);
    } finally {
      await p.query('ALTER TABLE sluice.documents_away RENAME TO documents');
    }
    expect(await holder(lockKey())).toBeUndefined();
    expect((await reconcile(onPostgres(), { staleMs: 60_000 })).checked).toBeGreaterThan(0);
  });
});
