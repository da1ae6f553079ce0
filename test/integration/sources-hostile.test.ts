// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Issue 16, hostile sources: files swapped after `ingest` listed them — for a FIFO,
// a symlink to /dev/zero, a symlink to a file outside the folder, a symlinked parent
// folder, a folder, a file the worker may not read — and NUL bytes in front matter.
// A real `sluice worker` (as an unprivileged user, so permissions mean something)
// fails each one at once with its permanent code, indexes nothing from outside the
// folder, finishes the normal documents and stops promptly on SIGTERM. And one
// file with a name that is not UTF-8 does not stop `ingest` queueing the rest.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestHashed } from '../../src/queue/producer.ts';
import { storeUpload } from '../../src/sources/upload-store.ts';
import { runCli, SLUICE_BIN } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');
const SECRET = 'SECRET-OUTSIDE-THE-FOLDER-7731';
const NOBODY = 65534;

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let root: string;
let outside: string;
let worker: ChildProcess | undefined;
let workerLog = '';
const uploads: Record<string, string> = {};

interface Row {
  uri: string;
  status: string;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
}

const rowOf = async (name: string): Promise<Row | undefined> =>
  (
    await p.query<Row>(
      'SELECT uri, status, error_code, error_message, attempts FROM sluice.documents WHERE uri = $1',
      [join(root, name)],
    )
  )[0];

/** `sluice worker` as an unprivileged user, in its own process group. */
function startWorker(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE_BIN, 'worker', '--concurrency', '4'], {
      env: { PATH: process.env.PATH, LANG: 'C.UTF-8', ...p.env, SLUICE_LOG_LEVEL: 'info' },
      cwd: '/',
      uid: NOBODY,
      gid: NOBODY,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (d: Buffer) => {
      workerLog += d;
      if (workerLog.includes('worker started')) resolve(child);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`worker exited early (${code}): ${workerLog}`)));
  });
}

beforeAll(async () => {
  p = await startPipeline({ label: 'src-hostile', stages: [] });
  scratch = scratchDir('src-hostile');
  chmodSync(scratch.dir, 0o755);
  root = join(scratch.dir, 'docs');
  outside = join(scratch.dir, 'private');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), `${SECRET}\n${TEXT}`);
  writeFileSync(join(outside, 'inner.txt'), `${SECRET} via a folder\n${TEXT}`);
  for (const name of [
    'normal-1.txt',
    'normal-2.txt',
    'fifo.txt',
    'zero.txt',
    'link.txt',
    'dir.txt',
    'locked.txt',
  ])
    writeFileSync(join(root, name), `${name}\n${TEXT}`);
  writeFileSync(join(root, 'sub', 'inner.txt'), `inner\n${TEXT}`);
  writeFileSync(join(root, 'nul.md'), `---\ntitle: front\u0000matter\n---\n# Heading\n\n${TEXT}`);

  const summary = await p.ingest([root]);
  expect(summary.queued).toBe(9);

  // The upload inbox, configured through a symlinked path: uploads are stored under its real path.
  const inboxReal = join(scratch.dir, 'inbox-real');
  mkdirSync(inboxReal);
  symlinkSync(inboxReal, join(scratch.dir, 'inbox'));
  const config = { ...p.config, inbox: join(scratch.dir, 'inbox') };
  for (const name of ['upload-ok.txt', 'upload-swapped.txt']) {
    const stored = await storeUpload(config, '/', Readable.from([Buffer.from(`${name}\n${TEXT}`)]), {
      collection: 'default',
      fileName: name,
      maxBytes: 1 << 20,
    });
    uploads[name] = stored.uri;
    chmodSync(stored.uri, 0o644); // uploads are 0640; here the worker runs as another user
    await ingestHashed(p.rt, [stored], { collection: 'default' });
  }

  // Swapped after ingest listed and hashed them.
  unlinkSync(join(root, 'fifo.txt'));
  execFileSync('mkfifo', [join(root, 'fifo.txt')]);
  unlinkSync(join(root, 'zero.txt'));
  symlinkSync('/dev/zero', join(root, 'zero.txt'));
  unlinkSync(join(root, 'link.txt'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
  rmSync(join(root, 'sub'), { recursive: true });
  symlinkSync(outside, join(root, 'sub'));
  unlinkSync(join(root, 'dir.txt'));
  mkdirSync(join(root, 'dir.txt'));
  chmodSync(join(root, 'locked.txt'), 0o000);
  unlinkSync(uploads['upload-swapped.txt']!);
  symlinkSync(join(outside, 'secret.txt'), uploads['upload-swapped.txt']!);

  worker = await startWorker();
  await until(
    'every document done or failed',
    async () => {
      const [row] = await p.query<{ n: string }>(
        "SELECT count(*) AS n FROM sluice.documents WHERE status IN ('queued', 'processing')",
      );
      return Number(row?.n) === 0;
    },
    { timeoutMs: 60_000 },
  );
}, 120_000);

afterAll(async () => {
  if (worker?.pid && worker.exitCode === null && worker.signalCode === null) {
    try {
      process.kill(-worker.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await p?.close();
  scratch?.cleanup();
});

describe('sources swapped after ingest', () => {
  it.each([
    ['a FIFO', 'fifo.txt', 'NOT_A_FILE', /named pipe/],
    ['a symlink to /dev/zero', 'zero.txt', 'NOT_A_FILE', /symbolic link/],
    ['a symlink to a file outside the folder', 'link.txt', 'NOT_A_FILE', /symbolic link/],
    ['a file under a symlinked parent folder', 'sub/inner.txt', 'NOT_A_FILE', /symbolic link/],
    ['a folder', 'dir.txt', 'NOT_A_FILE', /folder/],
    ['a file the worker may not read', 'locked.txt', 'PERMISSION_DENIED', /permission denied/],
    ['NUL bytes in front matter', 'nul.md', 'CORRUPT_FILE', /frontMatter\.title.*NUL/],
  ])('%s fails at once, not retried: %s → %s', async (_what, name, code, message) => {
    const row = await rowOf(name);
    expect({ status: row?.status, code: row?.error_code, attempts: row?.attempts }).toEqual({
      status: 'failed',
      code,
      attempts: 1,
    });
    expect(row?.error_message).toMatch(message);
  });

  it('an upload swapped for a symlink in the inbox fails NOT_A_FILE; one beside it is done', async () => {
    const rows = await p.query<Row>(
      'SELECT uri, status, error_code FROM sluice.documents WHERE uri = ANY($1)',
      [Object.values(uploads)],
    );
    const byUri = new Map(rows.map((r) => [r.uri, `${r.status}:${r.error_code}`]));
    expect(uploads['upload-ok.txt']?.startsWith(join(scratch.dir, 'inbox-real'))).toBe(true);
    expect(byUri.get(uploads['upload-ok.txt']!)).toBe('done:null');
    expect(byUri.get(uploads['upload-swapped.txt']!)).toBe('failed:NOT_A_FILE');
  });

  it('nothing from outside the folder is indexed or searchable', async () => {
    const rows = await p.query<{ n: string }>('SELECT count(*) AS n FROM sluice.chunks WHERE text LIKE $1', [
      `%${SECRET}%`,
    ]);
    expect(Number(rows[0]?.n)).toBe(0);
    const docs = await p.query<{ uri: string }>('SELECT uri FROM sluice.documents WHERE uri LIKE $1', [
      `${outside}%`,
    ]);
    expect(docs).toEqual([]);
  });

  it('the normal documents beside them are done', async () => {
    for (const name of ['normal-1.txt', 'normal-2.txt']) {
      expect((await rowOf(name))?.status, name).toBe('done');
    }
  });

  it('SIGTERM stops the worker (no read is left hanging)', async () => {
    const w = worker!;
    const exited = new Promise<number | null>((resolve) => w.once('exit', (code) => resolve(code)));
    process.kill(w.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('a file name that is not UTF-8', () => {
  it('is named (escaped) and skipped; the rest of the folder is queued; exit 1', async () => {
    const dir = join(scratch.dir, 'names');
    mkdirSync(dir);
    writeFileSync(join(dir, 'good.txt'), `good\n${TEXT}`);
    writeFileSync(
      Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]),
      TEXT,
    );
    const res = await runCli(['ingest', dir, '--json'], { env: p.env });
    expect(res.stderr).toMatch(
      /skipping .*names\/bad-\\xff\\xfe\.txt: its name is not valid UTF-8; rename it/,
    );
    expect(res.stderr).not.toMatch(/ENOENT/);
    expect(res.code, res.stderr).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ files: 1, queued: 1 });
  });
});
