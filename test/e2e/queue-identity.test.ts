// needs a Postgres server: several processes share one database
// needs a Redis server: one Redis shared by several databases
// Issue 11: a queue prefix belongs to one database. Two databases, one prefix:
// the second database's worker and ingest refuse to start (exit 2, naming both)
// instead of swallowing the first one's jobs. The binding outlives Redis losing
// its data: a running worker writes it again. A private redis-server is flushed;
// the shared one is never touched.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityKey } from '../../src/queue/identity.ts';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { createTestDatabase, type TestDatabase, uniquePrefix } from '../helpers/db.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { until } from '../helpers/until.ts';

let redis: TestRedis;
let admin: Redis;
let a: TestDatabase;
let b: TestDatabase;
let scratch: ReturnType<typeof scratchDir>;
const prefix = uniquePrefix('identity');

const envOf = (db: TestDatabase): Record<string, string> => ({
  DATABASE_URL: db.url,
  REDIS_URL: redis.url,
  SLUICE_QUEUE_PREFIX: prefix,
  SLUICE_LOCK_DURATION_MS: '3000',
  SLUICE_STALLED_INTERVAL_MS: '1500',
});

beforeAll(async () => {
  redis = await startTestRedis();
  admin = new Redis(redis.url);
  [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  scratch = scratchDir('identity');
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
  await a?.drop();
  await b?.drop();
  scratch?.cleanup();
});

function note(name: string): string {
  const file = join(scratch.dir, name);
  writeFileSync(file, `A note called ${name} about harbour pilots and tide tables.`);
  return file;
}

describe('one queue prefix, two databases', () => {
  it('the second database’s worker and ingest exit 2, naming both databases', async () => {
    expect((await runCli(['ingest', note('first.txt')], { env: envOf(a) })).code).toBe(0);

    const worker = await runCli(['worker'], { env: envOf(b), timeoutMs: 30_000 });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain(`"${a.name}"`);
    expect(worker.stderr).toContain(`"${b.name}"`);
    expect(worker.stderr).toContain('SLUICE_QUEUE_PREFIX');

    const ingest = await runCli(['ingest', note('second.txt')], { env: envOf(b) });
    expect(ingest.code).toBe(2);
    expect(ingest.stderr).toContain(`"${a.name}"`);
    // Nothing of database b's reached the queues or its documents.
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: b.url });
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM sluice.documents');
    await client.end();
    expect(rows[0].n).toBe(0);
  });

  it('after Redis loses its data, the running worker writes the binding again and it still holds', async () => {
    const worker = await spawnWorker(envOf(a));
    try {
      await admin.flushall();
      const held = await until('the running worker to write the binding again', () =>
        admin.get(identityKey(prefix)),
      );
      expect(held).toContain(a.name);

      const refused = await runCli(['ingest', note('third.txt')], { env: envOf(b) });
      expect(refused.code).toBe(2);
      // The prefix's own database still works end to end.
      const ok = await runCli(['ingest', note('fourth.txt'), '--wait'], { env: envOf(a) });
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      worker.kill('SIGTERM');
      await waitExit(worker);
    }
  });
});
