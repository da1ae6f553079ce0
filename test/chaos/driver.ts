// Chaos driver (issue 5, #16): ingests a mixed corpus with several `sluice worker`
// processes while it SIGKILLs workers, kills and restarts its own Redis
// (appendonly), terminates the database's Postgres backends, stops and restarts its
// own Postgres server (a cluster of its own) and lets the embedding server answer
// 429s and 5xx. It then processes the same final corpus in a clean
// run and compares the two databases. Used by `npm run test:chaos` (full) and
// test/integration/chaos.test.ts (bounded).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { type EmbedServer, startEmbedServer } from '../helpers/embed-server.ts';
import { startTestPostgres } from '../helpers/pg-cluster.ts';
import { type CorpusFile, makeCorpus, writeDoc } from './corpus.ts';

export interface ChaosOptions {
  docs: number;
  workers: number;
  /** Length of the chaos phase; waves, edits, deletes and faults are spread over it. */
  durationMs: number;
  minKills: number;
  redisRestarts: number;
  pgTerminations: number;
  /** Postgres server stops (each down for pgDownMs, then started again); > 0 puts the chaos database on a cluster of its own. */
  pgStops?: number;
  pgDownMs?: number;
  adminUrl?: string;
  log?: (line: string) => void;
}

export interface ChaosResult {
  ok: boolean;
  durationMs: number;
  documents: number;
  kills: number;
  workerStarts: number;
  redisRestarts: number;
  pgTerminations: number;
  pgStops: number;
  backendsTerminated: number;
  stormsAnd5xx: { r429: number; r5xx: number; requests: number };
  edited: number;
  deleted: number;
  chaos: Summary;
  clean: Summary;
  problems: string[];
}

interface Summary {
  statuses: Record<string, number>;
  chunks: number;
  duplicates: number;
  orphans: number;
  badEmbeddings: number;
  failedWithoutCode: number;
  /** Stage executions recorded (done or checkpoint-skipped): above the clean run's when work was redone. */
  stageRuns: number;
  queues: Record<string, number>;
}

const DIMS = 256;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own with appendonly persistence, killed and restarted at will. */
export class OwnRedis {
  proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'sluice-chaos-redis-'));
  readonly port: number;
  constructor(port: number) {
    this.port = port;
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        this.dir,
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      const r = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      r.on('error', () => undefined);
      try {
        await r.connect();
        if ((await r.ping()) === 'PONG') {
          // Loading the AOF answers LOADING until done; wait for a real reply.
          await r.dbsize();
          r.disconnect();
          return;
        }
      } catch {
        // not up yet
      }
      r.disconnect();
      await sleep(100);
    }
    throw new Error(`redis-server on ${this.port} did not start`);
  }
  /** SIGKILL (no chance to flush anything beyond appendfsync always), then start again. */
  async crash(downMs = 1000): Promise<void> {
    const p = this.proc;
    if (p) {
      p.kill('SIGKILL');
      await waitExit(p);
    }
    await sleep(downMs);
    await this.start();
  }
  async stop(): Promise<void> {
    if (this.proc) {
      this.proc.kill('SIGKILL');
      await waitExit(this.proc);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await admin.end();
}

async function terminateBackends(adminUrl: string, db: string): Promise<number> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const { rows } = await admin.query(
    'SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [db],
  );
  await admin.end();
  return rows.length;
}

/** A CLI call retried while Redis or Postgres is down (exit 2), as an operator's script would. */
async function cliRetry(args: string[], env: Record<string, string>, tries = 30): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const r = await runCli(args, { env, timeoutMs: 120_000 });
    if (r.code === 0 || r.code === 1) return r.stdout;
    last = r.stderr;
    await sleep(500);
  }
  throw new Error(`sluice ${args[0]} kept failing: ${last}`);
}

class WorkerFleet {
  readonly procs: (ChildProcess | undefined)[];
  readonly env: Record<string, string>;
  starts = 0;
  constructor(env: Record<string, string>, n: number) {
    this.env = env;
    this.procs = new Array(n).fill(undefined);
  }
  async start(i: number): Promise<void> {
    for (;;) {
      try {
        this.procs[i] = await spawnWorker(this.env);
        this.procs[i]!.on('exit', () => undefined);
        this.starts++;
        return;
      } catch {
        await sleep(300); // Redis or Postgres down right now: try again
      }
    }
  }
  async startAll(): Promise<void> {
    await Promise.all(this.procs.map((_, i) => this.start(i)));
  }
  private readonly restarting = new Set<number>();
  private readonly pendingStarts = new Set<Promise<void>>();
  /** SIGKILLs a random live worker; a new one starts in its place in the background. */
  async killOne(): Promise<boolean> {
    const live = this.procs
      .map((p, i) => ({ p, i }))
      .filter(({ p, i }) => p && p.exitCode === null && p.signalCode === null && !this.restarting.has(i));
    const target = live[Math.floor(Math.random() * live.length)];
    if (!target?.p) return false;
    this.restarting.add(target.i);
    target.p.kill('SIGKILL');
    await waitExit(target.p);
    const start: Promise<void> = this.start(target.i).finally(() => {
      this.restarting.delete(target.i);
      this.pendingStarts.delete(start);
    });
    this.pendingStarts.add(start);
    return true;
  }
  async settle(): Promise<void> {
    await Promise.all([...this.pendingStarts]);
  }
  /** Restarts any worker that died on its own (it should not). */
  async heal(): Promise<number> {
    let n = 0;
    for (const [i, p] of this.procs.entries()) {
      if (!p || p.exitCode !== null || p.signalCode !== null) {
        n++;
        await this.start(i);
      }
    }
    return n;
  }
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
        await waitExit(p);
        clearTimeout(t);
      }),
    );
  }
}

function workerEnv(
  dbUrl: string,
  redisUrl: string,
  prefix: string,
  embed: EmbedServer,
): Record<string, string> {
  return {
    DATABASE_URL: dbUrl,
    REDIS_URL: redisUrl,
    SLUICE_QUEUE_PREFIX: prefix,
    SLUICE_EMBEDDER: 'openai',
    OPENAI_BASE_URL: embed.openaiBaseUrl,
    OPENAI_API_KEY: 'sk-chaos-test-key-0123456789',
    SLUICE_EMBED_MODEL: 'text-embedding-3-small',
    SLUICE_EMBED_DIMENSIONS: String(DIMS),
    SLUICE_LOCK_DURATION_MS: '2000',
    SLUICE_STALLED_INTERVAL_MS: '1000',
    SLUICE_BACKOFF_MS: '200',
    SLUICE_ATTEMPTS: '10',
    SLUICE_CONCURRENCY: '3',
    SLUICE_EXTRACT_THREADS: '1',
  };
}

async function waitSettled(dbUrl: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new pg.Client({ connectionString: dbUrl });
    let pending = -1;
    try {
      await c.connect();
      const { rows } = await c.query(
        `SELECT count(*) AS n FROM sluice.documents WHERE status IN ('queued', 'processing')`,
      );
      pending = Number(rows[0].n);
    } catch {
      // terminated or restarting: ask again
    } finally {
      await c.end().catch(() => undefined);
    }
    if (pending === 0) return 0;
    if (Date.now() > deadline) return pending;
    await sleep(500);
  }
}

async function queueCounts(redisUrl: string, prefix: string): Promise<Record<string, number>> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const out: Record<string, number> = { waiting: 0, active: 0, delayed: 0, prioritized: 0 };
  for (const stage of ['extract', 'chunk', 'embed', 'load']) {
    const q = new Queue(stage, { connection, prefix });
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    for (const k of Object.keys(out)) out[k] = (out[k] ?? 0) + (c[k] ?? 0);
    await q.close();
  }
  connection.disconnect();
  return out;
}

interface Snapshot {
  docs: Map<string, string>;
  /** stage and error message per uri, to explain a difference. */
  why: Map<string, string>;
  chunks: Map<string, string>;
  summary: Summary;
}

async function snapshot(dbUrl: string, queues: Record<string, number>): Promise<Snapshot> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const q = async (sql: string) => (await c.query(sql)).rows;
  const docs = await q(
    'SELECT uri, status, stage, error_code, error_message, content_hash, indexed_hash FROM sluice.documents ORDER BY uri',
  );
  const chunks = await q(
    `SELECT d.uri, string_agg(c.ordinal || ':' || c.content_hash || ':' || md5(c.text) || ':' || md5(c.embedding::text), ',' ORDER BY c.ordinal) AS sig,
            count(*) AS n
     FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id GROUP BY d.uri`,
  );
  const one = async (sql: string) => Number((await q(sql))[0].n);
  const statuses: Record<string, number> = {};
  for (const d of docs) statuses[d.status] = (statuses[d.status] ?? 0) + 1;
  const summary: Summary = {
    statuses,
    chunks: await one('SELECT count(*) AS n FROM sluice.chunks'),
    duplicates: await one(
      'SELECT count(*) AS n FROM (SELECT 1 FROM sluice.chunks GROUP BY document_id, generation, ordinal HAVING count(*) > 1) x',
    ),
    orphans: await one(
      `SELECT count(*) AS n FROM sluice.chunks c LEFT JOIN sluice.documents d ON d.id = c.document_id
       WHERE d.id IS NULL OR d.status <> 'done' OR d.indexed_hash IS DISTINCT FROM d.content_hash`,
    ),
    badEmbeddings: await one(
      `SELECT count(*) AS n FROM sluice.chunks WHERE embedding IS NULL OR vector_dims(embedding) <> ${DIMS}`,
    ),
    failedWithoutCode: await one(
      `SELECT count(*) AS n FROM sluice.documents WHERE status = 'failed' AND error_code IS NULL`,
    ),
    stageRuns: await one(`SELECT count(*) AS n FROM sluice.stage_runs WHERE outcome <> 'failed'`),
    queues,
  };
  await c.end();
  return {
    docs: new Map(docs.map((d) => [d.uri, `${d.status}:${d.error_code ?? ''}:${d.content_hash ?? ''}`])),
    why: new Map(docs.map((d) => [d.uri, `stage ${d.stage}: ${d.error_message ?? ''}`])),
    chunks: new Map(chunks.map((r) => [r.uri, r.sig])),
    summary,
  };
}

function compare(a: Snapshot, b: Snapshot): string[] {
  const problems: string[] = [];
  const uris = new Set([...a.docs.keys(), ...b.docs.keys()]);
  for (const uri of uris) {
    if (a.docs.get(uri) !== b.docs.get(uri))
      problems.push(
        `document ${uri}: chaos ${a.docs.get(uri)} (${a.why.get(uri)}) vs clean ${b.docs.get(uri)}`,
      );
    if (a.chunks.get(uri) !== b.chunks.get(uri)) problems.push(`chunks of ${uri} differ from the clean run`);
  }
  for (const [name, s] of [
    ['chaos', a.summary],
    ['clean', b.summary],
  ] as const) {
    if (s.duplicates) problems.push(`${name}: ${s.duplicates} duplicate (document, ordinal)`);
    if (s.orphans) problems.push(`${name}: ${s.orphans} orphan chunks`);
    if (s.badEmbeddings) problems.push(`${name}: ${s.badEmbeddings} chunks without a ${DIMS}-d embedding`);
    if (s.failedWithoutCode) problems.push(`${name}: ${s.failedWithoutCode} failed documents without a code`);
    if (s.queues.waiting || s.queues.active)
      problems.push(`${name}: queues not empty ${JSON.stringify(s.queues)}`);
  }
  return problems;
}

function pick<T>(items: T[], n: number): T[] {
  const copy = [...items];
  const out: T[] = [];
  while (out.length < n && copy.length > 0)
    out.push(copy.splice(Math.floor(Math.random() * copy.length), 1)[0]!);
  return out;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const adminUrl = opts.adminUrl ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const started = Date.now();
  const tag = randomBytes(4).toString('hex');
  const corpusDir = mkdtempSync(join(tmpdir(), 'sluice-chaos-corpus-'));
  const redis = new OwnRedis(await freePort());
  const embed = await startEmbedServer({ errorRate: 0.1, latencyMs: 20, seed: 7 });
  const dbChaos = `sluice_chaos_${tag}`;
  const dbClean = `sluice_clean_${tag}`;
  const cleanup: (() => Promise<void>)[] = [];
  try {
    await redis.start();
    const files = await makeCorpus(corpusDir, opts.docs);
    log(`corpus: ${files.length} files in ${corpusDir}`);
    // Stopping a Postgres server needs one of our own (the shared one must stay up).
    const ownPg = opts.pgStops ? await startTestPostgres(await freePort()) : undefined;
    if (ownPg) cleanup.push(() => ownPg.close());
    const chaosAdminUrl = ownPg ? ownPg.url.replace(/\/sluice$/, '/postgres') : adminUrl;
    const chaosDb = ownPg ? 'sluice' : dbChaos;
    const chaosUrl = ownPg ? ownPg.url : await createDatabase(adminUrl, dbChaos);
    if (!ownPg) cleanup.push(() => dropDatabase(adminUrl, dbChaos));
    const env = workerEnv(chaosUrl, redis.url, `chaos-${tag}`, embed);
    await cliRetry(['migrate'], env);

    const fleet = new WorkerFleet(env, opts.workers);
    await fleet.startAll();

    // The plan: ingest waves over the first 70%, edits and deletes in between, faults throughout.
    const good = files.filter((f) => f.kind !== 'bad-pdf' && f.kind !== 'empty');
    const early = good.slice(0, Math.floor(good.length / 2));
    const share = Math.max(2, Math.round(good.length * 0.06));
    const [editA, editB, delA, delB] = [0, 1, 2, 3].map(() => [] as CorpusFile[]);
    const pool = pick(early, share * 4);
    editA!.push(...pool.slice(0, share));
    editB!.push(...pool.slice(share, share * 2));
    delA!.push(...pool.slice(share * 2, share * 3));
    delB!.push(...pool.slice(share * 3));
    const waves = 10;
    const perWave = Math.ceil(files.length / waves);
    // Early files go first so edits and deletes hit documents that exist.
    const order = [...early, ...files.filter((f) => !early.includes(f))];
    const ingest = async (fs: CorpusFile[]) =>
      fs.length === 0 ? '' : cliRetry(['ingest', ...fs.map((f) => f.path), '--json'], env);
    const edit = async (fs: CorpusFile[], v: number) => {
      for (const f of fs) await writeDoc(f, v);
      await ingest(fs);
    };
    const del = (fs: CorpusFile[]) => cliRetry(['delete', ...fs.map((f) => f.path), '--json'], env);

    let backends = 0;
    let redisRestarts = 0;
    let pgTerminations = 0;
    const events: { at: number; name: string; run: () => Promise<unknown> }[] = [];
    for (let w = 0; w < waves; w++)
      events.push({
        at: (0.7 * w) / waves,
        name: `ingest wave ${w}`,
        run: () => ingest(order.slice(w * perWave, (w + 1) * perWave)),
      });
    events.push({ at: 0.32, name: 'edit A', run: () => edit(editA!, 1) });
    events.push({ at: 0.42, name: 'delete A', run: () => del(delA!) });
    events.push({ at: 0.52, name: 'edit B', run: () => edit(editB!, 1) });
    events.push({ at: 0.62, name: 'delete B', run: () => del(delB!) });
    events.push({ at: 0.72, name: 'edit A again', run: () => edit(editA!, 2) });
    for (let i = 0; i < opts.redisRestarts; i++)
      events.push({
        at: (0.25 + (0.6 * i) / opts.redisRestarts) % 0.95,
        name: 'redis crash+restart',
        run: async () => {
          await redis.crash();
          redisRestarts++;
        },
      });
    for (let i = 0; i < opts.pgTerminations; i++)
      events.push({
        at: 0.15 + (0.7 * i) / opts.pgTerminations,
        name: 'pg_terminate_backend',
        run: async () => {
          backends += await terminateBackends(chaosAdminUrl, chaosDb);
          pgTerminations++;
        },
      });
    let pgStops = 0;
    for (let i = 0; i < (opts.pgStops ?? 0); i++)
      events.push({
        at: 0.3 + (0.5 * i) / (opts.pgStops ?? 1),
        name: 'postgres stop+start',
        run: async () => {
          await ownPg?.stop();
          await sleep(opts.pgDownMs ?? 5000);
          await ownPg?.start();
          pgStops++;
        },
      });
    for (const at of [0.2, 0.55])
      events.push({
        at,
        name: '429 storm',
        run: async () => embed.setOptions({ rateLimitNext: 40, stormRetryAfterSec: 1 }),
      });
    events.sort((a, b) => a.at - b.at);

    // Kills run on their own clock; events run in order, never two at once.
    let kills = 0;
    const killEvery = opts.durationMs / (opts.minKills + 3);
    const t0 = Date.now();
    let stopKilling = false;
    const killer = (async () => {
      while (!stopKilling) {
        await sleep(killEvery * (0.6 + Math.random() * 0.8));
        if (stopKilling) break;
        if (await fleet.killOne()) kills++;
      }
    })();
    for (const e of events) {
      const wait = t0 + e.at * opts.durationMs - Date.now();
      if (wait > 0) await sleep(wait);
      log(`  t=${((Date.now() - t0) / 1000).toFixed(1)}s ${e.name} (kills so far ${kills})`);
      await e.run();
    }
    while (Date.now() - t0 < opts.durationMs || kills < opts.minKills) await sleep(200);
    stopKilling = true;
    await killer;
    await fleet.settle();
    embed.setOptions({ errorRate: 0 });
    const healed = await fleet.heal();
    log(
      `chaos phase over after ${((Date.now() - t0) / 1000).toFixed(1)}s; ${healed} worker(s) had died alone`,
    );
    const pending = await waitSettled(chaosUrl, 150_000);
    const problems: string[] = [];
    if (pending > 0) problems.push(`chaos: ${pending} documents still queued/processing after 150 s`);
    await sleep(2500); // let BullMQ finish moving the last jobs
    const chaosQueues = await queueCounts(redis.url, env.SLUICE_QUEUE_PREFIX!);
    await fleet.stop();
    const traffic = {
      requests: embed.requests.length,
      r429: embed.requests.filter((r) => r.status === 429).length,
      r5xx: embed.requests.filter((r) => r.status >= 500).length,
    };

    // Clean run: same final files, same deletions, no faults.
    log('clean run ...');
    embed.setOptions({ errorRate: 0, rateLimitNext: 0 });
    const cleanUrl = await createDatabase(adminUrl, dbClean);
    cleanup.push(() => dropDatabase(adminUrl, dbClean));
    const cleanEnv = workerEnv(cleanUrl, redis.url, `clean-${tag}`, embed);
    await cliRetry(['migrate'], cleanEnv);
    const cleanFleet = new WorkerFleet(cleanEnv, 2);
    await cleanFleet.startAll();
    await cliRetry(['ingest', corpusDir, '--wait', '--json'], cleanEnv);
    await cliRetry(['delete', ...[...delA!, ...delB!].map((f) => f.path), '--json'], cleanEnv);
    await waitSettled(cleanUrl, 120_000);
    await sleep(1000);
    const cleanQueues = await queueCounts(redis.url, cleanEnv.SLUICE_QUEUE_PREFIX!);
    await cleanFleet.stop();

    const a = await snapshot(chaosUrl, chaosQueues);
    const b = await snapshot(cleanUrl, cleanQueues);
    problems.push(...compare(a, b));
    return {
      ok: problems.length === 0,
      durationMs: Date.now() - started,
      documents: files.length,
      kills,
      workerStarts: fleet.starts,
      redisRestarts,
      pgTerminations,
      pgStops,
      backendsTerminated: backends,
      stormsAnd5xx: traffic,
      edited: editA!.length + editB!.length,
      deleted: delA!.length + delB!.length,
      chaos: a.summary,
      clean: b.summary,
      problems,
    };
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    await embed.close();
    await redis.stop();
    rmSync(corpusDir, { recursive: true, force: true });
  }
}

export function formatResult(r: ChaosResult): string {
  return [
    `chaos run ${r.ok ? 'PASSED' : 'FAILED'} in ${(r.durationMs / 1000).toFixed(1)} s`,
    `  documents ${r.documents} (edited ${r.edited}, deleted ${r.deleted})`,
    `  worker SIGKILLs ${r.kills} (worker starts ${r.workerStarts}), Redis crash+restarts ${r.redisRestarts}, pg_terminate_backend rounds ${r.pgTerminations} (${r.backendsTerminated} backends), Postgres stop+starts ${r.pgStops}`,
    `  embedding server: ${r.stormsAnd5xx.requests} requests, ${r.stormsAnd5xx.r429} × 429, ${r.stormsAnd5xx.r5xx} × 5xx`,
    `  chaos: ${JSON.stringify(r.chaos)}`,
    `  clean: ${JSON.stringify(r.clean)}`,
    r.problems.length === 0
      ? '  comparison: identical documents, statuses, chunk texts/hashes and embeddings per uri'
      : `  problems (${r.problems.length}):\n    ${r.problems.slice(0, 40).join('\n    ')}`,
  ].join('\n');
}
