// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// `sluice watch`, `sluice sources`, `sluice serve` and `sluice ingest s3://` as a
// user runs them: help, JSON, and one clear line with exit 2 for each kind of
// bad source (missing folder, missing bucket, access denied, unreachable endpoint).

import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, SLUICE_BIN, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { denyingS3Server, startTestS3, type TestS3 } from '../helpers/s3-server.ts';
import { until } from '../helpers/until.ts';

const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');
let p: TestPipeline;
let s3: TestS3;
let scratch: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  p = await startPipeline({ label: 'src-cli', stages: [] });
  s3 = await startTestS3();
  await s3.createBucket('present');
  scratch = scratchDir('src-cli');
});

afterAll(async () => {
  await p?.close();
  await s3?.close();
  scratch?.cleanup();
});

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('help', () => {
  it.each(['watch', 'sources', 'serve'])('`sluice %s --help` exits 0 with usage', async (cmd) => {
    const res = await runCli([cmd, '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Usage: sluice ${cmd}`);
  });
});

describe('bad sources: one line naming the source and what to check, exit 2', () => {
  it('a folder that does not exist', async () => {
    const missing = join(scratch.dir, 'no-such-folder');
    const res = await runCli(['watch', missing, '--once'], { env: p.env });
    expect(res.code).toBe(2);
    expect(oneLine(res.stderr)).toMatch(new RegExp(`${missing}.*does not exist.*check the path`));
  });

  it('a bucket that does not exist', async () => {
    const res = await runCli(['watch', 's3://no-such-bucket/docs/', '--once'], {
      env: { ...p.env, ...s3.env },
    });
    expect(res.code).toBe(2);
    expect(oneLine(res.stderr)).toMatch(
      /s3:\/\/no-such-bucket\/docs\/.*bucket does not exist.*check the bucket name/,
    );
    const ingest = await runCli(['ingest', 's3://no-such-bucket/'], { env: { ...p.env, ...s3.env } });
    expect(ingest.code).toBe(2);
    expect(oneLine(ingest.stderr)).toContain('bucket does not exist');
  });

  it('access denied (a loopback server answering 403 AccessDenied, since fauxqs accepts any key)', async () => {
    const deny = await denyingS3Server();
    try {
      const env = { ...p.env, ...s3.env, AWS_ENDPOINT_URL_S3: deny.endpoint };
      const res = await runCli(['watch', 's3://present/docs/', '--once'], { env });
      expect(res.code).toBe(2);
      expect(oneLine(res.stderr)).toMatch(/s3:\/\/present\/docs\/.*access denied.*check the credentials/);
    } finally {
      await deny.close();
    }
  });

  it('an unreachable endpoint', async () => {
    const env = { ...p.env, ...s3.env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await closedPort()}` };
    const res = await runCli(['watch', 's3://present/docs/', '--once'], { env });
    expect(res.code).toBe(2);
    expect(oneLine(res.stderr)).toMatch(
      /s3:\/\/present\/docs\/.*cannot reach http:\/\/127\.0\.0\.1:\d+.*AWS_ENDPOINT_URL_S3/,
    );
  });
});

describe('ingest s3://', () => {
  it('queues every object under a prefix by its version, without reading it', async () => {
    await s3.put('present', 'ingest/one.txt', `one\n${TEXT}`);
    await s3.put('present', 'ingest/deeper/two words.md', `# Two\n\n${TEXT}`);
    await s3.put('present', 'other/three.txt', TEXT);
    const res = await runCli(['ingest', 's3://present/ingest/', '--json'], { env: { ...p.env, ...s3.env } });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ files: 2, queued: 2 });
    const rows = await p.query<{ uri: string; status: string }>(
      `SELECT uri, status FROM sluice.documents WHERE uri LIKE 's3://present/%' ORDER BY uri`,
    );
    expect(rows).toEqual([
      { uri: 's3://present/ingest/deeper/two words.md', status: 'queued' },
      { uri: 's3://present/ingest/one.txt', status: 'queued' },
    ]);
  });
});

describe('watch --once and sources', () => {
  it('syncs a folder once with workers, then lists it as a source (JSON)', async () => {
    const dir = join(scratch.dir, 'once');
    mkdirSync(dir);
    writeFileSync(join(dir, 'one.txt'), `one\n${TEXT}`);
    writeFileSync(join(dir, 'two.md'), `# Two\n\n${TEXT}`);
    const env = { ...p.env, SLUICE_WATCH_STABLE_MS: '200' };
    const res = await runCli(['watch', dir, '--once', '--json'], { env, timeoutMs: 120_000 });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).sources).toEqual([expect.objectContaining({ source: dir, queued: 2 })]);
    const docs = await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri LIKE $1', [
      `${dir}/%`,
    ]);
    expect(docs.map((d) => d.status)).toEqual(['done', 'done']);

    const again = await runCli(['watch', dir, '--once', '--json'], { env, timeoutMs: 120_000 });
    expect(JSON.parse(again.stdout).sources[0]).toMatchObject({ queued: 0, hashed: 0 });

    const list = await runCli(['sources', '--json'], { env });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).sources).toContainEqual(
      expect.objectContaining({ kind: 'folder', uri: dir, objects: 2, heldDeletes: 0, pendingDeletes: 0 }),
    );
  });

  it('an unreadable subfolder is warned about and its files are kept, not deleted', async () => {
    chmodSync(scratch.dir, 0o755);
    const dir = join(scratch.dir, 'partly');
    mkdirSync(join(dir, 'locked'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), `a\n${TEXT}`);
    writeFileSync(join(dir, 'locked', 'b.txt'), `b\n${TEXT}`);
    const env = { ...p.env, SLUICE_WATCH_STABLE_MS: '200', SLUICE_LOG_LEVEL: 'warn' };
    const first = await runCli(['watch', dir, '--once', '--no-workers', '--json'], { env });
    expect(JSON.parse(first.stdout).sources[0]).toMatchObject({ queued: 2 });
    chmodSync(join(dir, 'locked'), 0o000);
    writeFileSync(join(dir, 'c.txt'), `c\n${TEXT}`);
    // Root reads everything, so the second sync runs as an unprivileged user.
    const second = await runCli(['watch', dir, '--once', '--no-workers', '--json'], {
      env,
      uid: 65534,
      gid: 65534,
      cwd: '/',
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/cannot read folder .*locked.*left as they were/);
    expect(JSON.parse(second.stdout).sources[0]).toMatchObject({ queued: 1, deleted: 0, held: 0 });
    const [b] = await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri = $1', [
      join(dir, 'locked', 'b.txt'),
    ]);
    expect(b?.status).toBe('queued');
    chmodSync(join(dir, 'locked'), 0o755);
  });

  it('`sluice watch` runs until SIGTERM: a file dropped meanwhile is indexed by its in-process workers', async () => {
    const dir = join(scratch.dir, 'live');
    mkdirSync(dir);
    const child = spawn(process.execPath, [SLUICE_BIN, 'watch', dir], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...p.env,
        SLUICE_LOG_LEVEL: 'info',
        SLUICE_WATCH_STABLE_MS: '200',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d) => (log += d));
    try {
      await until('watch started', () => log.includes('watch started'));
      writeFileSync(join(dir, 'dropped.txt'), `dropped while watching\n${TEXT}`);
      await until('dropped.txt indexed', async () => {
        const [r] = await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri = $1', [
          join(dir, 'dropped.txt'),
        ]);
        return r?.status === 'done';
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await waitExit(child)).toBe(0);
    expect(log).toContain('SIGTERM received: stopping the watch');
  });

  it('`sluice watch --dashboard PORT` serves the dashboard while watching, and stops with it', async () => {
    const dir = join(scratch.dir, 'watched-with-board');
    mkdirSync(dir);
    const port = await freePort();
    const child = spawn(process.execPath, [SLUICE_BIN, 'watch', dir, '--dashboard', String(port)], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...p.env, SLUICE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d) => (log += d));
    try {
      await until('dashboard listening', () => log.includes(`dashboard at http://127.0.0.1:${port}/`));
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('sluice');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await waitExit(child)).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('approve-deletes names an unknown source clearly (exit 2)', async () => {
    const res = await runCli(['sources', 'approve-deletes', 's3://present/nothing/'], { env: p.env });
    expect(res.code).toBe(2);
    expect(oneLine(res.stderr)).toContain('no source s3://present/nothing/');
  });
});

/** A TCP port nobody listens on right now (the system picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as import('node:net').AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
