// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// needs a Redis server: checks what is stored in Redis
// Issue 5 security checks on the real pipeline: SQL injection attempts through
// front matter, file names, collection names and search queries change nothing;
// no secret (API key, passwords in DATABASE_URL/REDIS_URL) reaches logs, Redis job
// data, error messages or `status --json`; a malformed job put straight into
// Redis fails alone with INVALID_JOB.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, OwnRedis } from '../chaos/driver.ts';
import { runCli, SLUICE_BIN, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { type EmbedServer, startEmbedServer } from '../helpers/embed-server.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const INJECTIONS = [
  `'; DROP TABLE sluice.chunks; --`,
  `" OR 1=1; DELETE FROM sluice.documents; --`,
  `x'); UPDATE sluice.documents SET status='deleted'; --`,
  `$1; TRUNCATE sluice.embedding_cache CASCADE`,
];

let p: TestPipeline;
let dir: ReturnType<typeof scratchDir>;

async function tableCounts(pipe: TestPipeline): Promise<Record<string, number>> {
  const tables = await pipe.query<{ t: string }>(
    `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'sluice' ORDER BY 1`,
  );
  const out: Record<string, number> = {};
  for (const { t } of tables)
    out[t] = Number((await pipe.query<{ n: string }>(`SELECT count(*) AS n FROM sluice."${t}"`))[0]!.n);
  return out;
}

function noLeak(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  expect(text).not.toMatch(/syntax error at or near|unterminated quoted|42601/i); // no SQL error surfaced
}

beforeAll(async () => {
  dir = scratchDir('security');
  p = await startPipeline({ label: 'security' });
});

afterAll(async () => {
  await p?.close();
  dir?.cleanup();
});

describe('SQL injection attempts change nothing they should not', () => {
  it('front matter keys and values, and file names, are stored as data', async () => {
    const fm = INJECTIONS.map((s, i) => `${JSON.stringify(s)}: ${JSON.stringify(`${s} value ${i}`)}`).join(
      '\n',
    );
    const files: string[] = [];
    for (const [i, s] of INJECTIONS.entries()) {
      const name = join(dir.dir, `${s.replace(/\//g, '_')} ${i}.md`);
      writeFileSync(
        name,
        `---\ntitle: ${JSON.stringify(s)}\n${fm}\n---\n\n# Heading ${s}\n\nBody text number ${i} about ${s}.\n`,
      );
      files.push(name);
    }
    const normal = join(dir.dir, 'normal.txt');
    writeFileSync(normal, 'An ordinary document about herons and their nests.\n');
    await p.ingestAndWait([...files, normal]);
    const rows = await p.query<{
      uri: string;
      status: string;
      title: string;
      metadata: Record<string, unknown>;
    }>('SELECT uri, status, title, metadata FROM sluice.documents ORDER BY id');
    expect(rows.map((r) => r.status)).toEqual(new Array(files.length + 1).fill('done'));
    for (const [i, f] of files.entries()) {
      const r = rows.find((x) => x.uri === f)!;
      expect(r.title).toBe(INJECTIONS[i]);
      const front = r.metadata.frontMatter as Record<string, string>;
      for (const [j, s] of INJECTIONS.entries()) expect(front[s]).toBe(`${s} value ${j}`);
    }
    const chunks = await p.query<{ text: string }>('SELECT text FROM sluice.chunks');
    expect(chunks.some((c) => c.text.includes(INJECTIONS[0]!))).toBe(true);
  });

  it('collection names with quotes are refused by config validation (exit 2) and touch nothing', async () => {
    const before = await tableCounts(p);
    for (const bad of [`x'; DROP TABLE sluice.documents; --`, `a"b`, 'default; SELECT 1']) {
      for (const args of [
        ['ingest', dir.dir, '--collection', bad],
        ['search', 'herons', '--collection', bad],
        ['status', '--json', '--collection', bad],
      ]) {
        const r = await runCli(args, { env: p.env });
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(/collection|SLUICE_COLLECTION/i);
        expect(r.stdout).toBe('');
        noLeak(r.stderr);
      }
    }
    expect(await tableCounts(p)).toEqual(before);
  });

  it('search queries are data: injection strings search, change nothing and leak no SQL error', async () => {
    const before = await tableCounts(p);
    for (const q of [...INJECTIONS, `\\'; SELECT pg_sleep(10); --`, '%_%', '']) {
      const r = await runCli(['search', q, '-k', '2', '--json'], { env: p.env, timeoutMs: 30_000 });
      if (!/[\p{L}\p{N}]/u.test(q)) {
        // A query with no word in it ('' or '%_%') is refused, cleanly.
        expect([0, 2]).toContain(r.code);
      } else {
        expect(r.code, q).toBe(0);
        expect(JSON.parse(r.stdout).query).toBe(q);
      }
      noLeak(r.stderr);
    }
    expect(await tableCounts(p)).toEqual(before);
  });

  it('delete by an injection-shaped reference deletes nothing', async () => {
    const before = await tableCounts(p);
    const r = await runCli(['delete', `1 OR 1=1`, `' OR ''='`, '--json'], { env: p.env });
    expect(r.code).toBe(2); // not found
    noLeak(r.stderr);
    expect(await tableCounts(p)).toEqual(before);
    const live = await p.query<{ n: string }>(
      `SELECT count(*) AS n FROM sluice.documents WHERE status = 'done'`,
    );
    expect(Number(live[0]!.n)).toBe(before.documents);
  });
});

describe('a malformed job payload in Redis fails alone', () => {
  it('fails with INVALID_JOB without retries while a good document beside it finishes', async () => {
    const queue = new Queue('extract', { connection: p.rt.redis!, prefix: p.config.queuePrefix });
    const bad = [
      {
        v: 1,
        documentId: '1; DROP TABLE sluice.chunks; --',
        contentHash: 'x',
        collection: 'default',
        uri: '/etc/passwd',
      },
      { v: 2, documentId: 1, contentHash: 'a'.repeat(64), collection: 'default', uri: '/x' },
      { v: 1, documentId: 1, contentHash: 'a'.repeat(64), collection: "bad'name", uri: '/x' },
      'just a string',
    ];
    const ids: string[] = [];
    for (const [i, data] of bad.entries()) {
      const job = await queue.add('extract', data as never, { jobId: `malformed-${i}`, attempts: 5 });
      ids.push(job.id!);
    }
    const good = join(dir.dir, 'beside.txt');
    writeFileSync(good, 'A good document processed beside malformed jobs, about kestrels.\n');
    const before = await tableCounts(p);
    await p.ingestAndWait([good]);
    for (const id of ids) {
      let state = '';
      for (let i = 0; i < 100 && state !== 'failed'; i++) {
        state = await queue.getJobState(id);
        if (state !== 'failed') await sleep(100);
      }
      const job = await queue.getJob(id);
      expect(state).toBe('failed');
      expect(job?.failedReason).toMatch(/^INVALID_JOB: malformed job payload/);
      expect(job?.attemptsMade).toBe(1); // permanent: no retries
    }
    const [doc] = await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri = $1', [
      good,
    ]);
    expect(doc?.status).toBe('done');
    const after = await tableCounts(p);
    expect(after.documents).toBe(before.documents! + 1);
    await queue.close();
  });
});

describe('secrets never leak', () => {
  const PG_PW = `pgSecret${Date.now()}`;
  const REDIS_PW = `redisSecret${Date.now()}`;
  const API_KEY = `sk-sluiceTestKey${Date.now()}abcdef`;
  const SECRETS = [PG_PW, REDIS_PW, API_KEY];
  let redis: OwnRedis;
  let embed: EmbedServer;
  let env: Record<string, string>;
  let worker: ChildProcess;
  let workerLog = '';
  const outputs: string[] = [];

  const check = (label: string, text: string) => {
    for (const s of SECRETS) expect(text.includes(s), `${label} contains a secret`).toBe(false);
  };

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', REDIS_PW);
    admin.disconnect();
    embed = await startEmbedServer({ apiKey: API_KEY });
    const db = new URL(p.env.DATABASE_URL!);
    db.password = PG_PW; // trust auth ignores it, but it is in the URL everywhere the URL goes
    env = {
      ...p.env,
      DATABASE_URL: db.toString(),
      REDIS_URL: `redis://:${REDIS_PW}@127.0.0.1:${redis.port}`,
      SLUICE_QUEUE_PREFIX: `${p.env.SLUICE_QUEUE_PREFIX}-sec`,
      SLUICE_EMBEDDER: 'openai',
      SLUICE_EMBED_MODEL: 'text-embedding-3-small',
      SLUICE_EMBED_DIMENSIONS: '256',
      SLUICE_COLLECTION: 'secure',
      OPENAI_BASE_URL: embed.openaiBaseUrl,
      OPENAI_API_KEY: API_KEY,
      SLUICE_LOG_LEVEL: 'debug',
    };
    worker = spawn(process.execPath, [SLUICE_BIN, 'worker'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout?.on('data', (d) => (workerLog += d));
    worker.stderr?.on('data', (d) => (workerLog += d));
    for (let i = 0; i < 200 && !workerLog.includes('worker started'); i++) await sleep(50);
    expect(workerLog).toContain('worker started');
    const sec = scratchDir('security-secrets');
    writeFileSync(join(sec.dir, 'ok.md'), '# Fine\n\nA fine document about owls.\n');
    writeFileSync(join(sec.dir, 'broken.pdf'), Buffer.from('\u0001\u0002not a pdf'.repeat(100)));
    const ingest = await runCli(['ingest', sec.dir, '--wait', '--json'], { env, timeoutMs: 60_000 });
    outputs.push(ingest.stdout, ingest.stderr);
    expect(ingest.code).toBe(1); // one document failed
    for (const args of [['status', '--json'], ['status'], ['search', 'owls', '--json'], ['doctor']]) {
      const r = await runCli(args, { env });
      outputs.push(r.stdout, r.stderr);
    }
    // Errors that name the servers: a missing database, a wrong Redis password, a bad API key.
    const missingDb = new URL(env.DATABASE_URL!);
    missingDb.pathname = '/no_such_database_here';
    const badEnvs: Record<string, string>[] = [
      { DATABASE_URL: missingDb.toString() },
      { REDIS_URL: `redis://:${REDIS_PW}x@127.0.0.1:${redis.port}` },
      { REDIS_URL: `redis://:${REDIS_PW}@127.0.0.1:1` },
    ];
    for (const bad of badEnvs) {
      const r = await runCli(['status', '--json'], { env: { ...env, ...bad } });
      expect(r.code).toBe(2);
      outputs.push(r.stdout, r.stderr);
    }
    const wrongKey = await runCli(['search', 'owls'], {
      env: { ...env, OPENAI_API_KEY: `${API_KEY}-wrong` },
    });
    outputs.push(wrongKey.stdout, wrongKey.stderr);
    sec.cleanup();
  }, 90_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await waitExit(worker);
    }
    await embed?.close();
    await redis?.stop();
  });

  it('the worker log (debug level) holds no secret', () => {
    expect(workerLog.length).toBeGreaterThan(0);
    check('worker log', workerLog);
  });

  it('CLI output, error messages and `status --json` hold no secret', () => {
    expect(outputs.join('').length).toBeGreaterThan(0);
    for (const o of outputs) check('cli output', o);
  });

  it('job data and every other key in Redis hold no secret', async () => {
    const r = new Redis(env.REDIS_URL!);
    const keys = await r.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    let dump = keys.join('\n');
    for (const k of keys) {
      const type = await r.type(k);
      if (type === 'string') dump += await r.get(k);
      else if (type === 'hash') dump += JSON.stringify(await r.hgetall(k));
      else if (type === 'list') dump += (await r.lrange(k, 0, -1)).join();
      else if (type === 'set') dump += (await r.smembers(k)).join();
      else if (type === 'zset') dump += (await r.zrange(k, 0, -1)).join();
      else if (type === 'stream') dump += JSON.stringify(await r.xrange(k, '-', '+'));
    }
    r.disconnect();
    expect(dump).toContain('ok.md'); // the job data really was scanned
    check('redis', dump);
  });

  it('error messages stored in the database hold no secret', async () => {
    const rows = await p.query<{ m: string | null }>('SELECT error_message AS m FROM sluice.documents');
    expect(rows.some((r) => r.m)).toBe(true);
    for (const r of rows) check('documents.error_message', r.m ?? '');
  });
});
