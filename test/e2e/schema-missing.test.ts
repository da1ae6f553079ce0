// needs a Postgres server: creates server databases without the schema
// needs a Redis server: workers queue on Redis
// #15: every command that reads the schema checks it once, up front. Against a
// database never migrated (or migrated by an older sluice) each says to run
// `sluice migrate` and exits 2, instead of hanging (worker, serve, dashboard,
// watch retried the missing tables forever) or printing a raw SQL error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { waitForDocuments } from '../../src/queue/producer.ts';
import type { Runtime } from '../../src/queue/runtime.ts';
import { runCli } from '../helpers/cli.ts';
import { ADMIN_URL, dbUrl, TEST_REDIS_URL, uniquePrefix } from '../helpers/db.ts';

const EMPTY = `sluice_t_empty_${process.pid}`;
const BEHIND = `sluice_t_behind_${process.pid}`;
let admin: pg.Client;
let file: string;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  for (const db of [EMPTY, BEHIND]) {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-schema-'));
  file = join(dir, 'note.txt');
  writeFileSync(file, 'a note about lighthouses');
});

afterAll(async () => {
  for (const db of [EMPTY, BEHIND]) await admin?.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin?.end();
});

const env = (db: string) => ({
  DATABASE_URL: dbUrl(db),
  REDIS_URL: TEST_REDIS_URL,
  SLUICE_QUEUE_PREFIX: uniquePrefix('schema'),
  SLUICE_LOG_LEVEL: 'error',
});

describe('a database without the sluice schema', () => {
  it.each([
    [['ingest', '--wait', 'FILE']],
    [['run', 'FILE']],
    [['worker']],
    [['serve', '--port', '0']],
    [['dashboard', '--port', '0']],
    [['watch', 'DIR']],
    [['status']],
    [['search', 'lighthouses']],
    [['generations']],
  ])('%j says to run `sluice migrate` and exits 2', async (args) => {
    const argv = args.map((a) => (a === 'FILE' ? file : a === 'DIR' ? join(file, '..') : a));
    // Long-running commands on main never returned: the child is killed at the timeout (code null).
    const res = await runCli(argv, { env: env(EMPTY), timeoutMs: 30_000 });
    expect(res.stderr).toContain(
      `the database "${EMPTY}" at 127.0.0.1:5432 has no sluice schema: run \`sluice migrate\``,
    );
    expect(res.code).toBe(2);
  });

  it('one migrated by an older sluice names the missing migrations', async () => {
    expect((await runCli(['migrate'], { env: env(BEHIND) })).code).toBe(0);
    const c = new pg.Client({ connectionString: dbUrl(BEHIND) });
    await c.connect();
    const { rows } = await c.query<{ name: string }>(
      'DELETE FROM sluice.migrations WHERE id = (SELECT max(id) FROM sluice.migrations) RETURNING name',
    );
    await c.end();
    const res = await runCli(['worker'], { env: env(BEHIND), timeoutMs: 30_000 });
    expect(res.stderr).toContain(`is missing 1 sluice migration(s) (${rows[0]?.name})`);
    expect(res.code).toBe(2);
  });

  it('a wait whose query fails for a lasting reason ends with that error instead of retrying forever', async () => {
    const pool = createPool(dbUrl(EMPTY), { max: 1 });
    try {
      const rt = { pool } as unknown as Runtime;
      await expect(waitForDocuments(rt, [1], { timeoutMs: 60_000 })).rejects.toMatchObject({ code: '42P01' });
    } finally {
      await pool.end();
    }
  }, 20_000);
});
