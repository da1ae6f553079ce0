// The one SQL path on the embedded database: sluice's migrations apply, and the
// copy sink loads the bytes of sluice's binary COPY encoder identically on a
// server (pg-copy-streams) and on PGlite (COPY FROM '/dev/blob').
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, pendingMigrations } from '../../src/db/migrate.ts';
import { createPool, type Pool, withTransaction } from '../../src/db/pool.ts';
import { CopyWriter, copyIn, encodeVector } from '../../src/loaders/copy.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { type TempHome, tempHome } from '../helpers/embedded.ts';

let home: TempHome;
let embedded: Pool;
let serverDb: TestDatabase;
let server: Pool;

beforeAll(async () => {
  home = await tempHome('copy');
  embedded = createPool(home.url, { max: 4 });
  serverDb = await createTestDatabase();
  server = createPool(serverDb.url, { max: 4 });
});

afterAll(async () => {
  await embedded?.end();
  await home?.remove();
  await server?.end();
  await serverDb?.drop();
});

describe('migrations', () => {
  it('apply on the embedded database, then find nothing pending', async () => {
    const results = await migrate(embedded);
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.status === 'applied')).toBe(true);
    expect(await pendingMigrations(embedded, { queueSchema: true })).toEqual([]);
    expect((await migrate(embedded)).every((r) => r.status === 'already-applied')).toBe(true);
  });
});

const TABLE = `CREATE TABLE IF NOT EXISTS copy_probe (
  id int8, name text, n int4, meta jsonb, v vector(3), gone text)`;

function payload(): CopyWriter {
  const w = new CopyWriter();
  for (let i = 0; i < 500; i++) {
    w.row([
      { t: 'int8', v: 2 ** 40 + i },
      { t: 'text', v: `row ${i} — ünïcode ✓` },
      { t: 'int4', v: -i },
      { t: 'jsonb', v: { i, tags: ['a', 'b'], nested: { ok: i % 2 === 0 } } },
      { t: 'raw', v: encodeVector([i, 0.5, -1.25]) },
      { t: 'null' },
    ]);
  }
  return w;
}

async function loadAndRead(pool: Pool, inTransaction: boolean) {
  await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
  await pool.query(TABLE);
  await pool.query('TRUNCATE copy_probe');
  const sql = 'COPY copy_probe (id, name, n, meta, v, gone) FROM STDIN (FORMAT binary)';
  if (inTransaction) await withTransaction(pool, (c) => copyIn(c, sql, payload()));
  else {
    const c = await pool.connect();
    try {
      await copyIn(c, sql, payload());
    } finally {
      c.release();
    }
  }
  const { rows } = await pool.query(
    'SELECT id, name, n, meta, v::text AS v, gone FROM copy_probe ORDER BY id',
  );
  return rows;
}

describe('copy sink', () => {
  it('loads the same rows, vectors included, on the embedded database as on a server', async () => {
    const onServer = await loadAndRead(server, true);
    const onEmbedded = await loadAndRead(embedded, true);
    expect(onServer).toHaveLength(500);
    expect(onEmbedded).toEqual(onServer);
    expect(onEmbedded[1]).toMatchObject({ id: String(2 ** 40 + 1), n: -1, v: '[1,0.5,-1.25]', gone: null });
  });

  it('works outside a transaction too, and leaves the session free for other clients', async () => {
    const rows = await loadAndRead(embedded, false);
    expect(rows).toHaveLength(500);
    expect((await embedded.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  it('a failing COPY fails its transaction, which rolls back whole', async () => {
    await embedded.query('TRUNCATE copy_probe');
    await expect(
      withTransaction(embedded, async (c) => {
        await c.query('INSERT INTO copy_probe (id) VALUES (1)');
        await copyIn(c, 'COPY copy_probe (id, name) FROM STDIN (FORMAT binary)', payload());
      }),
    ).rejects.toThrow();
    expect((await embedded.query('SELECT count(*)::int AS n FROM copy_probe')).rows[0].n).toBe(0);
  });
});

describe('the one instance per process', () => {
  it('closes with the last pool and opens again for the next, data kept, lock released between', async () => {
    const second = createPool(home.url, { max: 1 });
    await second.query('SELECT 1');
    await embedded.end(); // another pool still uses the instance
    expect((await second.query('SELECT count(*)::int AS n FROM copy_probe')).rows[0].n).toBe(0);
    await second.end(); // the last one: closed, lock file gone
    expect(existsSync(join(home.home, 'lock'))).toBe(false);
    embedded = createPool(home.url, { max: 2 });
    expect(
      (await embedded.query('SELECT count(*)::int AS n FROM sluice.migrations')).rows[0].n,
    ).toBeGreaterThan(0);
    expect(existsSync(join(home.home, 'lock'))).toBe(true);
  });
});
