// Issue 9 acceptance: the same corpus through `sluice run` in the three
// deployment modes — embedded (no DATABASE_URL, no REDIS_URL), Postgres only
// (DATABASE_URL, no REDIS_URL) and Postgres + Redis — gives the same documents,
// the same chunk texts and the same top search result. The embedded run is
// traced (strace, connect(2)) to prove it opened no connection to any Redis or
// Postgres server on the machine.
// needs a Postgres server: the Postgres-only and Postgres + Redis modes
// needs a Redis server: the Postgres + Redis mode
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUrl } from '../../src/db/embedded/url.ts';
import { createPool } from '../../src/db/pool.ts';
import { runCli, SLUICE_BIN } from '../helpers/cli.ts';
import { copyFourFormats, FOUR_FORMATS } from '../helpers/corpus.ts';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase, uniquePrefix } from '../helpers/db.ts';
import { type TempHome, tempHome } from '../helpers/embedded.ts';

const FILES = FOUR_FORMATS;
const QUERY = 'Big Blue multinational technology company Armonk';

interface ModeResult {
  documents: string[];
  chunks: string[];
  /** The top hit; its score to 5 places (wasm and native float sums differ in the 8th). */
  top: { uri: string; text: string; score: string } | undefined;
}

let home: TempHome;
let docs: string;
const dbs: TestDatabase[] = [];
const prefix = uniquePrefix('modes');
const base = { SLUICE_LOG_LEVEL: 'warn', SLUICE_QUEUE_PREFIX: prefix };
const results: Record<string, ModeResult> = {};

beforeAll(async () => {
  home = await tempHome('modes');
  docs = join(home.home, 'docs'); // the same absolute paths in every mode
  copyFourFormats(docs);
});

afterAll(async () => {
  for (const db of dbs) await db.drop();
  await home?.remove();
});

/** The documents, chunk texts (in order) and top result a database holds after a run. */
async function contents(url: string, cwd: string, env: Record<string, string>): Promise<ModeResult> {
  const search = await runCli(['search', QUERY, '-k', '1', '--json'], { cwd, env });
  expect(search.stderr).toBe('');
  expect(search.code).toBe(0);
  const hit = (JSON.parse(search.stdout) as { results: { uri: string; text: string; score: number }[] })
    .results[0];
  const top = hit && { uri: hit.uri, text: hit.text, score: hit.score.toFixed(5) };
  const pool = createPool(url, { max: 1 });
  try {
    const documents = await pool.query<{ d: string }>(
      `SELECT uri || ' ' || status AS d FROM sluice.documents ORDER BY uri`,
    );
    const chunks = await pool.query<{ t: string }>(
      `SELECT d.uri || '#' || c.ordinal || ' ' || c.text AS t
         FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id
        ORDER BY d.uri, c.ordinal`,
    );
    return { documents: documents.rows.map((r) => r.d), chunks: chunks.rows.map((r) => r.t), top };
  } finally {
    await pool.end();
  }
}

/** `sluice run` under strace, recording every connect(2) of the process and its threads. */
function tracedRun(args: string[], cwd: string, env: Record<string, string>, trace: string) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '--seccomp-bpf',
        '-e',
        'trace=connect',
        '-o',
        trace,
        process.execPath,
        SLUICE_BIN,
        ...args,
      ],
      { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...env } },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) =>
      reject(new Error(`strace is needed for this test (apt install strace): ${err}`)),
    );
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the same corpus in the three deployment modes', () => {
  it('embedded: no server is contacted, every document ends done', async () => {
    const trace = join(home.home, 'connect.trace');
    const run = await tracedRun(['run', docs, '--json'], home.home, base, trace);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const connects = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /sin6?_port=htons\((5432|6379)\)|\.s\.PGSQL|redis/.test(l));
    expect(connects).toEqual([]);
    // SLUICE_HOME defaults to ./.sluice in the directory the command runs in.
    results.embedded = await contents(embeddedUrl(join(home.home, '.sluice', 'pgdata')), home.home, base);
  });

  it('Postgres only (no REDIS_URL): every document ends done', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const env = { ...base, DATABASE_URL: db.url };
    const run = await runCli(['run', docs, '--json'], { cwd: home.home, env, timeoutMs: 170_000 });
    expect(run.code).toBe(0);
    results.postgres = await contents(db.url, home.home, env);
  });

  it('Postgres + Redis: every document ends done', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const env = { ...base, DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL };
    const run = await runCli(['run', docs, '--json'], { cwd: home.home, env, timeoutMs: 170_000 });
    expect(run.code).toBe(0);
    results.redis = await contents(db.url, home.home, env);
  });

  it('gives the same documents, chunk texts and top search result in all three', () => {
    const { embedded, postgres, redis } = results;
    expect(embedded?.documents).toHaveLength(FILES.length);
    expect(embedded?.documents.every((d) => d.endsWith(' done'))).toBe(true);
    expect(embedded?.chunks.length).toBeGreaterThan(FILES.length);
    expect(embedded?.top?.uri).toMatch(/docling-wiki\.md$/);
    expect(postgres).toEqual(embedded);
    expect(redis).toEqual(embedded);
  });
});
