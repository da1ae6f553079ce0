// The embedded database's one PGlite session shared by many pg clients:
// transactions never interleave or deadlock, LISTEN/NOTIFY reaches the
// listening clients, advisory locks and SKIP LOCKED behave, and results have
// node-postgres' server shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool, withTransaction } from '../../src/db/pool.ts';
import { type TempHome, tempHome } from '../helpers/embedded.ts';

let home: TempHome;
let pool: Pool;

beforeAll(async () => {
  home = await tempHome('session');
  pool = createPool(home.url, { max: 8 });
  await pool.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
});

afterAll(async () => {
  await pool?.end();
  await home?.remove();
});

describe('transactions on the shared session', () => {
  it("another client's query waits until the open transaction commits, and then sees it", async () => {
    const a = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query("INSERT INTO t VALUES (1, 'a')");
      let seen: number | undefined;
      const other = pool.query('SELECT count(*)::int AS n FROM t').then((r) => {
        seen = r.rows[0].n;
      });
      // The holder's own queries go through while the other waits.
      const mine = await a.query('SELECT count(*)::int AS n FROM t');
      expect(mine.rows[0].n).toBe(1);
      expect(seen).toBeUndefined();
      await a.query('COMMIT');
      await other;
      expect(seen).toBe(1);
    } finally {
      a.release();
    }
  });

  it('a rolled-back transaction is never seen by another client', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query("INSERT INTO t VALUES (2, 'rolled back')");
      const other = b.query('SELECT count(*)::int AS n FROM t WHERE id = 2');
      await a.query('ROLLBACK');
      expect((await other).rows[0].n).toBe(0);
    } finally {
      a.release();
      b.release();
    }
  });

  it('a failed transaction keeps the session until its ROLLBACK', async () => {
    const a = await pool.connect();
    try {
      await a.query('BEGIN');
      await expect(a.query('SELECT no_such_column FROM t')).rejects.toThrow(/no_such_column/);
      let done = false;
      const other = pool.query('SELECT 1').then(() => {
        done = true;
      });
      await expect(a.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
      expect(done).toBe(false);
      await a.query('ROLLBACK');
      await other;
    } finally {
      a.release();
    }
  });

  it('a client that ends inside a transaction has it rolled back and frees the session', async () => {
    const a = await pool.connect();
    await a.query('BEGIN');
    await a.query("INSERT INTO t VALUES (3, 'abandoned')");
    const other = pool.query('SELECT count(*)::int AS n FROM t WHERE id = 3');
    a.release(true); // destroyed, as the pool does with a broken client
    expect((await other).rows[0].n).toBe(0);
  });

  it("a parameterised query that fails does not make the next client's statement vanish", async () => {
    // pool.query ends a client whose query failed; with Parse/Bind/Execute run and
    // its Sync not yet, the session skipped every message until a Sync: the next
    // client's INSERT ran as nothing, without an error (BullMQ's retries were lost).
    await pool.query("INSERT INTO t VALUES (10, 'x')");
    const failing = pool.query('INSERT INTO t VALUES ($1, $2)', [10, 'duplicate']);
    const next = pool.query('INSERT INTO t VALUES ($1, $2)', [11, 'after the failure']);
    await expect(failing).rejects.toThrow(/duplicate key/);
    await next;
    const { rows } = await pool.query('SELECT v FROM t WHERE id = 11');
    expect(rows).toEqual([{ v: 'after the failure' }]);
  });

  it('a pool ended while a client is in use finishes once that client is released', async () => {
    const other = createPool(home.url, { max: 2 });
    const c = await other.connect();
    const ended = other.end();
    await c.query('SELECT 1');
    c.release();
    await ended; // waits for the released client's end(), which must come
  });

  it('many concurrent transactional clients all finish, each transaction whole', async () => {
    await pool.query('CREATE TABLE counter (n int)');
    await pool.query('INSERT INTO counter VALUES (0)');
    const n = 40;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        withTransaction(pool, async (c) => {
          const { rows } = await c.query('SELECT n FROM counter');
          await c.query('UPDATE counter SET n = $1', [rows[0].n + 1]);
          await c.query('INSERT INTO t VALUES ($1, $2)', [100 + i, `tx ${i}`]);
        }),
      ),
    );
    // A lost update would show if two read-modify-write transactions interleaved.
    expect((await pool.query('SELECT n FROM counter')).rows[0].n).toBe(n);
  });

  it('prepared statements of the same name on two clients do not clash', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      const ra = await a.query({ name: 'q', text: 'SELECT $1::int + 1 AS v', values: [1] });
      const rb = await b.query({ name: 'q', text: "SELECT $1::text || 'x' AS v", values: ['a'] });
      expect(ra.rows[0].v).toBe(2);
      expect(rb.rows[0].v).toBe('ax');
      expect((await a.query({ name: 'q', text: 'SELECT $1::int + 1 AS v', values: [5] })).rows[0].v).toBe(6);
    } finally {
      a.release();
      b.release();
    }
  });
});

describe('the rest of the process keeps running', () => {
  // A query on a server is a socket round trip, a turn of the event loop; on
  // PGlite it resolves on microtasks alone. A loop of queries (searches while a
  // re-index builds) must still let timers and I/O run, or the process spins.
  it('a timer set before a loop of queries fires while the loop runs', async () => {
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 1);
    let queries = 0;
    while (!fired && queries < 20_000) {
      await pool.query('SELECT 1');
      queries++;
    }
    expect(fired).toBe(true);
    expect(queries).toBeLessThan(20_000);
  });
});

describe('what BullMQ needs', () => {
  it('LISTEN/NOTIFY reaches the listening clients, not the others', async () => {
    const listener = await pool.connect();
    const bystander = await pool.connect();
    try {
      const got: { channel: string; payload?: string }[] = [];
      const stray: unknown[] = [];
      listener.on('notification', (m) => got.push(m));
      bystander.on('notification', (m) => stray.push(m));
      await listener.query('-- subscribe\nLISTEN jobs_ch;');
      await pool.query("SELECT pg_notify('jobs_ch', 'one')");
      await withTransaction(pool, (c) => c.query("NOTIFY jobs_ch, 'two'"));
      await pool.query("NOTIFY other_ch, 'not for it'");
      await expect.poll(() => got.map((m) => m.payload)).toEqual(['one', 'two']);
      expect(got[0]?.channel).toBe('jobs_ch');
      expect(stray).toEqual([]);
    } finally {
      listener.release(true);
      bystander.release();
    }
  });

  it('transaction-level advisory locks exclude other transactions until commit', async () => {
    const a = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query('SELECT pg_advisory_xact_lock(42)');
      const other = withTransaction(pool, async (c) => {
        const { rows } = await c.query('SELECT pg_try_advisory_xact_lock(42) AS ok');
        return rows[0].ok as boolean;
      });
      await a.query('COMMIT');
      expect(await other).toBe(true); // it ran after the holder's commit, when the lock was free
    } finally {
      a.release();
    }
  });

  it('session-level advisory locks belong to the one shared session (per process, not per client)', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      expect((await a.query('SELECT pg_try_advisory_lock(7) AS ok')).rows[0].ok).toBe(true);
      // On a server b would be refused; embedded, every client is the same session.
      expect((await b.query('SELECT pg_try_advisory_lock(7) AS ok')).rows[0].ok).toBe(true);
      await a.query('SELECT pg_advisory_unlock(7)');
      await b.query('SELECT pg_advisory_unlock(7)');
    } finally {
      a.release();
      b.release();
    }
  });

  it('FOR UPDATE SKIP LOCKED claims each row once across concurrent claimers', async () => {
    await pool.query('CREATE TABLE jobs (id int PRIMARY KEY, claimed_by int)');
    await pool.query('INSERT INTO jobs SELECT g, NULL FROM generate_series(1, 30) g');
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, w) =>
        (async () => {
          const mine: number[] = [];
          for (;;) {
            const id = await withTransaction(pool, async (c) => {
              const { rows } = await c.query(
                'SELECT id FROM jobs WHERE claimed_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED',
              );
              if (!rows[0]) return undefined;
              await c.query('UPDATE jobs SET claimed_by = $1 WHERE id = $2', [w, rows[0].id]);
              return rows[0].id as number;
            });
            if (id === undefined) return mine;
            mine.push(id);
          }
        })(),
      ),
    );
    const all = claims.flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});

describe('result shapes as node-postgres gives them from a server', () => {
  it('int8 and numeric as strings, timestamptz as Date, bytea as Buffer, json parsed, rowCount, fields', async () => {
    const r = await pool.query(
      `SELECT 9007199254740993::int8 AS big, 1.50::numeric AS num, now() AS at, '\\x0102'::bytea AS bin,
              '{"a":[1]}'::jsonb AS j, 3::int4 AS small`,
    );
    const row = r.rows[0];
    expect(row.big).toBe('9007199254740993');
    expect(row.num).toBe('1.50');
    expect(row.at).toBeInstanceOf(Date);
    expect(Buffer.isBuffer(row.bin)).toBe(true);
    expect([...row.bin]).toEqual([1, 2]);
    expect(row.j).toEqual({ a: [1] });
    expect(row.small).toBe(3);
    expect(r.fields.map((f) => f.name)).toEqual(['big', 'num', 'at', 'bin', 'j', 'small']);
    const upd = await pool.query("UPDATE t SET v = v || '!' WHERE id >= 100");
    expect(upd.rowCount).toBe(40);
  });

  it('pgvector values parse as arrays, as the pool registers them on a server', async () => {
    await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    // Types are registered on a new connection once the extension exists.
    const fresh = createPool(home.url, { max: 1 });
    try {
      await fresh.query('SELECT 1');
      const { rows } = await fresh.query("SELECT '[1,2.5,3]'::vector AS v");
      expect(rows[0].v).toEqual([1, 2.5, 3]);
    } finally {
      await fresh.end();
    }
  });
});
