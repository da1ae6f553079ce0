// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// The CLI as a user meets it: help, exit codes, JSON output, clear one-line
// errors for bad input and unreachable services, and odd file names.
import { chmodSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { ADMIN_URL, dbUrl } from '../helpers/db.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;

const COMMANDS = ['migrate', 'ingest', 'run', 'worker', 'status', 'retry', 'delete', 'search', 'doctor'];

beforeAll(async () => {
  p = await startPipeline({ label: 'cli', stages: [] });
  scratch = scratchDir('cli');
  chmodSync(scratch.dir, 0o755);
});

afterAll(async () => {
  await p?.close();
  scratch?.cleanup();
});

async function documentCount(): Promise<number> {
  const [r] = await p.query<{ n: string }>('SELECT count(*) AS n FROM sluice.documents');
  return Number(r?.n);
}

function noStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
}

describe('help and usage', () => {
  it.each(COMMANDS)('`sluice %s --help` exits 0 with usage', async (cmd) => {
    const res = await runCli([cmd, '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Usage: sluice ${cmd}`);
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['status', '--bogus'])).code).toBe(2);
  });

  it('reports every invalid setting at once, naming the variables', async () => {
    const res = await runCli(['status'], {
      env: { ...p.env, SLUICE_CHUNK_SIZE: 'lots', SLUICE_EMBEDDER: 'telepathy' },
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('SLUICE_CHUNK_SIZE');
    expect(res.stderr).toContain('SLUICE_EMBEDDER');
    noStack(res.stderr);
  });
});

describe('bad inputs', () => {
  it('a nonexistent path: exit 2, names the path, nothing enqueued', async () => {
    const good = join(scratch.dir, 'fine.txt');
    writeFileSync(good, 'a perfectly fine file');
    const res = await runCli(['ingest', good, join(scratch.dir, 'missing.txt')], { env: p.env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('missing.txt does not exist');
    expect(await documentCount()).toBe(0);
  });

  it('an empty glob: exit 2, names the pattern, nothing enqueued', async () => {
    const res = await runCli(['ingest', `${scratch.dir}/*.nothing`], { env: p.env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('no files match');
    expect(await documentCount()).toBe(0);
  });

  it('an unreadable file: exit 2, names the file, nothing enqueued', async () => {
    const dir = join(scratch.dir, 'locked');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'open.txt'), 'readable');
    writeFileSync(join(dir, 'secret.txt'), 'unreadable');
    chmodSync(join(dir, 'secret.txt'), 0o000);
    // Root reads everything, so run the CLI as an unprivileged user.
    const res = await runCli(['ingest', dir], { env: p.env, uid: 65534, gid: 65534, cwd: '/' });
    expect(res.stderr).toContain('secret.txt');
    expect(res.stderr).toContain('permission denied');
    expect(res.code).toBe(2);
    expect(await documentCount()).toBe(0);
  });

  it('garbage, empty and oversized files fail with codes; the rest of the batch is done (exit 1)', async () => {
    const dir = join(scratch.dir, 'batch');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.md'), '# Notes\n\nThe quarterly zeppelin report is ready.\n');
    writeFileSync(join(dir, 'garbage.bin'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 7, 8, 9]));
    writeFileSync(join(dir, 'empty.txt'), '');
    writeFileSync(join(dir, 'huge.txt'), '');
    truncateSync(join(dir, 'huge.txt'), 5_000_000); // sparse: large by size, never read
    const res = await runCli(['run', dir, '--json'], { env: { ...p.env, SLUICE_MAX_FILE_BYTES: '1000000' } });
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as { done: number; failures: { uri: string; code: string }[] };
    expect(out.done).toBe(1);
    const codes = Object.fromEntries(out.failures.map((f) => [f.uri.split('/').pop(), f.code]));
    expect(codes).toEqual({
      'garbage.bin': 'UNSUPPORTED_TYPE',
      'empty.txt': 'NO_TEXT',
      'huge.txt': 'TOO_LARGE',
    });
    const [attempts] = await p.query<{ max: number }>(
      `SELECT max(attempts) AS max FROM sluice.documents WHERE status = 'failed'`,
    );
    expect(attempts?.max).toBeLessThanOrEqual(1); // permanent failures are not retried
  });

  it('file names with spaces, unicode, quotes, newlines and RTL marks are ingested and shown escaped', async () => {
    const dir = join(scratch.dir, 'names');
    mkdirSync(dir);
    const names = [
      'with space.txt',
      'ünïcødé 文件.txt',
      `quote's "double".txt`,
      'new\nline.txt',
      'rtl\u202Egnp.txt',
    ];
    for (const [i, n] of names.entries())
      writeFileSync(join(dir, n), `document number ${i} about lighthouses`);
    const res = await runCli(['run', dir, '--json'], { env: p.env });
    expect(res.code).toBe(0);
    const rows = await p.query<{ uri: string; status: string }>(
      'SELECT uri, status FROM sluice.documents WHERE uri LIKE $1',
      [`${dir}/%`],
    );
    expect(rows.map((r) => r.uri.slice(dir.length + 1)).sort()).toEqual([...names].sort());
    expect(rows.every((r) => r.status === 'done')).toBe(true);
    const search = await runCli(['search', 'lighthouses', '-k', '5'], { env: p.env });
    expect(search.code).toBe(0);
    expect(search.stdout).toContain('new\\nline.txt');
    expect(search.stdout).toContain('rtl\\u{202e}gnp.txt');
    expect(search.stdout).not.toContain('\u202E');
  });
});

describe('unreachable services', () => {
  it('Redis down: one line naming the host, exit 2, no stack trace', async () => {
    const res = await runCli(['status'], { env: { ...p.env, REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('cannot reach Redis at 127.0.0.1:1');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    noStack(res.stderr);
  });

  it('Postgres down: one line naming the host, exit 2, no stack trace; --verbose adds it', async () => {
    const env = { ...p.env, DATABASE_URL: 'postgresql://postgres:hunter2@127.0.0.1:1/x' };
    const res = await runCli(['status'], { env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('cannot reach Postgres at 127.0.0.1:1');
    expect(res.stderr).not.toContain('hunter2');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    noStack(res.stderr);
    const verbose = await runCli(['--verbose', 'status'], { env });
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('a database that does not exist, or is not migrated, says what to do', async () => {
    const missing = await runCli(['status'], { env: { ...p.env, DATABASE_URL: dbUrl('sluice_no_such_db') } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('check DATABASE_URL');
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const bare = `sluice_t_bare_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${bare}`);
    await admin.query(`CREATE DATABASE ${bare}`);
    try {
      const res = await runCli(['status'], { env: { ...p.env, DATABASE_URL: dbUrl(bare) } });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('sluice migrate');
      // Several machines migrating at once: all succeed, each migration applied once.
      const runs = await Promise.all(
        [1, 2, 3].map(() => runCli(['migrate', '--json'], { env: { ...p.env, DATABASE_URL: dbUrl(bare) } })),
      );
      expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
      const applied = runs.flatMap(
        (r) => (JSON.parse(r.stdout) as { migrations: { status: string }[] }).migrations,
      );
      // Each migration applied by exactly one of them, BullMQ's queue schema too.
      const { loadMigrations } = await import('../../src/db/migrate.ts');
      expect(applied.filter((m) => m.status === 'applied')).toHaveLength((await loadMigrations()).length + 1);
      const doctor = await runCli(['doctor', '--json'], { env: { ...p.env, DATABASE_URL: dbUrl(bare) } });
      expect(doctor.code).toBe(0);
      expect(JSON.parse(doctor.stdout)).toMatchObject({ ok: true });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${bare} WITH (FORCE)`);
      await admin.end();
    }
  });
});

describe('status, retry and delete', () => {
  it('status --json lists counts, queue depths and failures with reasons', async () => {
    const res = await runCli(['status', '--json'], { env: p.env });
    expect(res.code).toBe(0);
    const s = JSON.parse(res.stdout) as {
      documents: Record<string, Record<string, number>>;
      queues: Record<string, { waiting: number }>;
      recentFailures: { code: string }[];
    };
    expect(s.documents.default?.failed).toBe(3);
    expect(Object.keys(s.queues)).toEqual(['extract', 'chunk', 'embed', 'load']);
    expect(s.recentFailures.map((f) => f.code).sort()).toEqual(['NO_TEXT', 'TOO_LARGE', 'UNSUPPORTED_TYPE']);
    const text = await runCli(['status'], { env: p.env });
    expect(text.stdout).toContain('recent failures:');
  });

  it('retry re-queues failed documents; delete removes a document and its chunks', async () => {
    const retry = await runCli(['retry', '--failed', '--json'], { env: p.env });
    expect(retry.code).toBe(0);
    expect((JSON.parse(retry.stdout) as { retried: number[] }).retried).toHaveLength(2); // too-large is not hashed
    const [doc] = await p.query<{ id: string; uri: string }>(
      `SELECT id, uri FROM sluice.documents WHERE uri LIKE '%notes.md'`,
    );
    const del = await runCli(['delete', doc!.uri, '--json'], { env: p.env });
    expect(del.code).toBe(0);
    const [row] = await p.query<{ status: string; n: string }>(
      `SELECT status, (SELECT count(*) FROM sluice.chunks WHERE document_id = $1) AS n FROM sluice.documents WHERE id = $1`,
      [doc!.id],
    );
    expect(row).toEqual({ status: 'deleted', n: '0' });
    const missing = await runCli(['delete', '/no/such/doc'], { env: p.env });
    expect(missing.code).toBe(2);
  });
});
