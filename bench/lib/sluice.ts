// One sluice scenario of the benchmark: for each phase (first run, re-ingest
// unchanged, re-ingest edited, ...) start N `sluice worker` processes, run
// `sluice ingest <dir> --wait --json` as its own process, read the workers' peak
// RSS, stop them, then read back what happened: per-stage time and queue waits
// (sluice.stage_runs), Postgres writes per table, Redis commands (INFO
// commandstats) and the embedding requests the test server saw.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { EmbedServer } from '../../test/helpers/embed-server.ts';
import {
  type DocFigures,
  diffWrites,
  docFigures,
  maxStageRunId,
  type StageFigures,
  stageFigures,
  type WriteFigures,
  writeFigures,
} from './db.ts';
import { type Child, cpuSeconds, peakRssMb, start, stop, waitFor } from './procs.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'sluice.js');

export interface Phase {
  label: string;
  /** Runs before the workers start (e.g. edit the corpus). */
  before?: () => Promise<void>;
}

export interface SluiceScenario {
  label: string;
  workers: number;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  inputDir: string;
  /** SLUICE_* settings of the embedder condition. */
  env: Record<string, string>;
  server?: EmbedServer;
  /** pid of the private redis-server, for its CPU time. */
  redisPid?: number;
  phases: Phase[];
}

export interface RequestFigures {
  requests: number;
  inputs: number;
  tokens: number;
  non200: number;
}

export interface PhaseResult {
  label: string;
  /** Wall time of `sluice ingest --wait` (hash, enqueue, wait), process start to exit. */
  seconds: number;
  ingest: Record<string, unknown>;
  stages: StageFigures[];
  writes: WriteFigures;
  redisCommands: number;
  redisByCommand: Record<string, number>;
  embedRequests?: RequestFigures;
  peakRssMb: number[];
  /** Workers that died mid-phase and were restarted (0 in a clean run). */
  workerRestarts: number;
  /**
   * CPU seconds during the ingest: worker processes, their Postgres backends, redis-server, the
   * ingest CLI, and this process (in condition b mostly the test server counting tokens).
   */
  cpuSeconds: { workers: number; postgres: number; redis: number; ingestCli: number; benchProcess: number };
}

export interface SluiceResult {
  label: string;
  workers: number;
  docs: DocFigures;
  phases: PhaseResult[];
}

function childEnv(s: SluiceScenario): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('SLUICE_') && !k.startsWith('OPENAI_') && k !== 'DATABASE_URL') env[k] = v;
  return {
    ...env,
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl,
    SLUICE_QUEUE_PREFIX: s.prefix,
    SLUICE_LOG_LEVEL: 'info',
    ...s.env,
  };
}

async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

function requestFigures(server: EmbedServer, from: number): RequestFigures {
  const reqs = server.requests.slice(from);
  return {
    requests: reqs.length,
    inputs: reqs.reduce((n, r) => n + (r.status === 200 ? r.inputs : 0), 0),
    tokens: reqs.reduce((n, r) => n + (r.status === 200 ? r.tokens : 0), 0),
    non200: reqs.filter((r) => r.status !== 200).length,
  };
}

async function runPhase(s: SluiceScenario, phase: Phase, pool: pg.Pool, redis: Redis): Promise<PhaseResult> {
  await phase.before?.();
  const env = childEnv(s);
  const workers: Child[] = [];
  // A worker that dies mid-phase (this machine is shared: another session's chaos
  // test may kill it) is restarted and counted, so the phase still completes.
  let running = true;
  let restarts = 0;
  const spawnWorker = (i: number): Child => {
    const w = start(process.execPath, [CLI, 'worker'], env, ROOT);
    workers[i] = w;
    void w.exited.then((code) => {
      if (!running) return;
      restarts++;
      process.stderr.write(
        `  worker ${w.pid} exited (${code}) mid-phase: restarting\n${w.stderrTail().slice(-400)}\n`,
      );
      spawnWorker(i);
    });
    return w;
  };
  try {
    for (let i = 0; i < s.workers; i++) spawnWorker(i);
    await Promise.all(workers.map((w) => waitFor(w, 'worker started', 60_000)));
    const stageId = await maxStageRunId(pool);
    const writesBefore = await writeFigures(pool);
    const cmdBefore = await commandStats(redis);
    const reqFrom = s.server?.requests.length ?? 0;
    const backends = await pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    const pgPids = () => backends.rows.map((r) => r.pid);
    const sumCpu = (pids: number[]) => pids.reduce((n, p) => n + cpuSeconds(p), 0);
    const cpu0 = { w: sumCpu(workers.map((w) => w.pid)), r: s.redisPid ? cpuSeconds(s.redisPid) : 0 };
    const t0 = performance.now();
    const self0 = process.cpuUsage();
    const ingest = start(
      process.execPath,
      [CLI, 'ingest', s.inputDir, '--wait', '--json', '--timeout', '900'],
      env,
      ROOT,
    );
    let ingestCpu = 0;
    const sampler = setInterval(() => {
      ingestCpu = Math.max(ingestCpu, cpuSeconds(ingest.pid));
    }, 200);
    const code = await ingest.exited;
    clearInterval(sampler);
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0 && code !== 1)
      throw new Error(`${s.label}/${phase.label}: ingest exited ${code}:\n${ingest.stderrTail()}`);
    const peak = workers.map((w) => peakRssMb(w.pid));
    running = false;
    // Workers' pool connections opened after the snapshot above are counted too.
    const live = await pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    const newPids = live.rows.map((r) => r.pid).filter((p) => !pgPids().includes(p));
    const cpu = {
      workers: sumCpu(workers.map((w) => w.pid)) - cpu0.w,
      // Backends of this database: workers' pools (and the ingest's, gone by now).
      postgres: sumCpu([...pgPids(), ...newPids]),
      redis: s.redisPid ? cpuSeconds(s.redisPid) - cpu0.r : 0,
      ingestCli: ingestCpu,
      benchProcess: (() => {
        const u = process.cpuUsage(self0);
        return (u.user + u.system) / 1e6;
      })(),
    };
    const cmdAfter = await commandStats(redis);
    await Promise.all(workers.map((w) => stop(w)));
    const byCommand: Record<string, number> = {};
    for (const [k, v] of Object.entries(cmdAfter)) {
      const d = v - (cmdBefore[k] ?? 0);
      if (d > 0 && k !== 'info') byCommand[k] = d;
    }
    // Backends flush their statistics when they exit: the workers have, the ingest has.
    await new Promise((r) => setTimeout(r, 600));
    return {
      label: phase.label,
      seconds,
      ingest: JSON.parse(ingest.stdout() || '{}') as Record<string, unknown>,
      stages: await stageFigures(pool, stageId),
      writes: diffWrites(await writeFigures(pool), writesBefore),
      redisCommands: Object.values(byCommand).reduce((a, b) => a + b, 0),
      redisByCommand: byCommand,
      ...(s.server ? { embedRequests: requestFigures(s.server, reqFrom) } : {}),
      peakRssMb: peak,
      cpuSeconds: cpu,
      workerRestarts: restarts,
    };
  } finally {
    running = false;
    await Promise.all(workers.map((w) => stop(w, 3000)));
  }
}

/** Runs the scenario's phases in order; deletes its Redis keys afterwards. */
export async function runSluice(s: SluiceScenario, log: (m: string) => void): Promise<SluiceResult> {
  const pool = new pg.Pool({ connectionString: s.databaseUrl, max: 2 });
  const redis = new Redis(s.redisUrl, { maxRetriesPerRequest: 3 });
  try {
    const phases: PhaseResult[] = [];
    let docs: DocFigures | undefined;
    for (const phase of s.phases) {
      const r = await runPhase(s, phase, pool, redis);
      phases.push(r);
      docs ??= await docFigures(pool);
      log(`  ${s.label} ${phase.label}: ${r.seconds.toFixed(1)} s`);
    }
    return { label: s.label, workers: s.workers, docs: docs ?? (await docFigures(pool)), phases };
  } finally {
    await pool.end();
    const stream = redis.scanStream({ match: `${s.prefix}:*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}
