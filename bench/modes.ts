// The three deployment modes side by side, in one run, on the quick corpus (200
// documents): `sluice run <dir> --json` (one process: ingest + workers) with
// - "server+redis":   a server DATABASE_URL and REDIS_URL (today's default setup),
// - "postgres-queue": a server DATABASE_URL, REDIS_URL unset (BullMQ's PostgreSQL backend),
// - "embedded":       DATABASE_URL and REDIS_URL unset, SLUICE_HOME a temp folder.
// Each starts from a migrated, empty database (`sluice migrate` in its own mode), so
// the runs differ only in where the data and the jobs live. docs/s = documents done
// over the wall time of the `run` process. Targets (issue 9): embedded ≥ 0.5×,
// postgres-queue ≥ 0.8× server+redis.
//
// Before touching anything, `sluice doctor --json` (read-only) must report each mode as
// asked; a build without the embedded database or the Postgres queue fails here with one
// line instead of measuring the wrong thing.
// Alone: `node bench/modes.ts [--seed S]` writes bench/results/modes-<time>.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCorpus } from './corpus.ts';
import { ADMIN_URL, createDatabase, dropDatabase } from './lib/db.ts';
import { start } from './lib/procs.ts';
import { ROOT } from './lib/sluice.ts';
import { ratio, table } from './lib/table.ts';

const CLI = join(ROOT, 'bin', 'sluice.js');
export const MODES = ['server+redis', 'postgres-queue', 'embedded'] as const;
export type Mode = (typeof MODES)[number];
const EXPECTED: Record<Mode, { database: string; queue: string }> = {
  'server+redis': { database: 'server', queue: 'redis' },
  'postgres-queue': { database: 'server', queue: 'postgres' },
  embedded: { database: 'embedded', queue: 'postgres' },
};
const TARGETS: Partial<Record<Mode, number>> = { embedded: 0.5, 'postgres-queue': 0.8 };

export interface ModeRun {
  mode: Mode;
  modesLine: string;
  docs: number;
  failed: number;
  chunks: number;
  /** Wall time of the `run` process, start to exit. */
  seconds: number;
  docsPerSec: number;
  /** What `run` itself reports (its wait only). */
  runDocsPerSecond: number | null;
}

export interface ModesResult {
  corpus: { documents: number; bytes: number; seed: number };
  runs: Record<string, ModeRun>;
  ratios: Record<string, number>;
  targets: { name: string; target: string; measured: number; met: boolean }[];
}

/** The environment of one mode: nothing inherited that would choose another. */
function modeEnv(
  mode: Mode,
  place: { databaseUrl?: string; redisUrl: string; home: string; prefix: string },
) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(SLUICE_|OPENAI_)/.test(k) && k !== 'DATABASE_URL' && k !== 'REDIS_URL') env[k] = v;
  Object.assign(env, {
    SLUICE_EMBEDDER: 'hash',
    SLUICE_EMBED_DIMENSIONS: '384',
    SLUICE_LOG_LEVEL: 'warn',
    SLUICE_QUEUE_PREFIX: place.prefix,
    SLUICE_HOME: place.home,
  });
  if (mode !== 'embedded' && place.databaseUrl) env.DATABASE_URL = place.databaseUrl;
  if (mode === 'server+redis') env.REDIS_URL = place.redisUrl;
  return env;
}

async function sluice(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const t0 = performance.now();
  const child = start(process.execPath, [CLI, ...args], env, cwd);
  const code = await child.exited;
  return {
    code,
    stdout: child.stdout(),
    stderr: child.stderrTail(),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Deletes the Redis keys of a queue prefix (the server+redis run's), on a shared Redis too. */
async function dropRedisKeys(url: string, prefix: string | undefined): Promise<void> {
  if (!prefix) return;
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: true });
  try {
    await redis.connect();
    const stream = redis.scanStream({ match: `${prefix}:*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.del(...keys);
  } catch {
    // best effort: a Redis that is gone has nothing left to clean
  } finally {
    redis.disconnect();
  }
}

/** This build cannot run a mode: the bench says so in one line (no stack) and exits 1. */
export class ModesUnavailable extends Error {
  override readonly name = 'ModesUnavailable';
}

/** Prints a ModesUnavailable as its one line and exits 1; anything else is rethrown. */
export function exitIfModesUnavailable(err: unknown): never {
  if ((err as Error | undefined)?.name !== 'ModesUnavailable') throw err;
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}

/** Fails with one line when this build does not put `mode` where it was asked to. */
async function preflight(mode: Mode, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const res = await sluice(['doctor', '--json'], env, cwd);
  let got: { database?: { kind?: string; where?: string }; queue?: { kind?: string; where?: string } } = {};
  try {
    got = (JSON.parse(res.stdout) as { modes?: typeof got }).modes ?? {};
  } catch {
    // no JSON: said below
  }
  const want = EXPECTED[mode];
  if (got.database?.kind === want.database && got.queue?.kind === want.queue) return;
  const seen = got.database
    ? `database ${got.database.kind} (${got.database.where}), queue ${got.queue?.kind} (${got.queue?.where})`
    : `no modes from \`sluice doctor --json\` (${res.stderr.trim().split('\n').pop() ?? `exit ${res.code}`})`;
  throw new ModesUnavailable(
    `bench modes: the "${mode}" scenario needs database ${want.database} and queue ${want.queue}, but this build reports ${seen}; ` +
      'it runs once the embedded database and the Postgres queue are in (issue 9), or pass --skip-modes',
  );
}

export async function measureModes(opts: {
  seed: number;
  redisUrl: string;
  tag: string;
  log: (m: string) => void;
}): Promise<ModesResult> {
  const corpusDir = join(tmpdir(), `sluice-bench-corpus-${opts.seed}-200`);
  const manifest = await ensureCorpus({ count: 200, seed: opts.seed, out: corpusDir });
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-modes-'));
  const dbs: string[] = [];
  const runs: Record<string, ModeRun> = {};
  const places = new Map<Mode, Parameters<typeof modeEnv>[1]>();
  try {
    for (const mode of MODES) {
      const home = join(work, mode, '.sluice');
      mkdirSync(join(work, mode), { recursive: true });
      places.set(mode, { redisUrl: opts.redisUrl, home, prefix: `${opts.tag}-${mode.replace('+', '-')}` });
      // Read-only (the server modes look at the admin database): nothing is created before
      // every mode is known to be what it says.
      const probe = { ...places.get(mode)!, databaseUrl: ADMIN_URL, home: join(work, 'preflight') };
      await preflight(mode, modeEnv(mode, probe), work);
    }
    for (const mode of MODES) {
      const place = places.get(mode)!;
      if (mode !== 'embedded') {
        const name = `${opts.tag}_mode_${mode === 'server+redis' ? 'redis' : 'pgq'}`;
        dbs.push(name);
        place.databaseUrl = await createDatabase(name);
      }
      const env = modeEnv(mode, place);
      const cwd = join(work, mode);
      const migrated = await sluice(['migrate'], env, cwd);
      if (migrated.code !== 0)
        throw new Error(`bench modes: ${mode}: migrate exited ${migrated.code}: ${migrated.stderr}`);
      opts.log(`modes: ${mode}: sluice run on ${manifest.count} documents`);
      const res = await sluice(['run', join(corpusDir, 'docs'), '--json'], env, cwd);
      if (res.code !== 0 && res.code !== 1)
        throw new Error(`bench modes: ${mode}: run exited ${res.code}:\n${res.stderr}`);
      const out = JSON.parse(res.stdout) as {
        done: number;
        failed: number;
        chunks: number;
        docsPerSecond: number | null;
      };
      runs[mode] = {
        mode,
        modesLine: res.stderr.split('\n').find((l) => l.startsWith('database: ')) ?? '',
        docs: out.done,
        failed: out.failed,
        chunks: out.chunks,
        seconds: res.seconds,
        docsPerSec: out.done / res.seconds,
        runDocsPerSecond: out.docsPerSecond ?? null,
      };
    }
  } finally {
    for (const d of dbs) await dropDatabase(d);
    await dropRedisKeys(opts.redisUrl, places.get('server+redis')?.prefix);
    rmSync(work, { recursive: true, force: true });
  }
  const base = runs['server+redis']!.docsPerSec;
  const ratios: Record<string, number> = {};
  const targets: ModesResult['targets'] = [];
  for (const [mode, min] of Object.entries(TARGETS)) {
    const name = `modes: ${mode} / server+redis docs/s`;
    ratios[name] = ratio(runs[mode]!.docsPerSec, base);
    targets.push({ name, target: `≥ ${min}`, measured: ratios[name], met: ratios[name] >= min });
  }
  return {
    corpus: { documents: manifest.count, bytes: manifest.totalBytes, seed: opts.seed },
    runs,
    ratios,
    targets,
  };
}

export function printModes(r: ModesResult): string {
  return table(
    ['mode', 'docs', 'failed', 'seconds', 'docs/s', 'run docs/s', 'first line'],
    Object.values(r.runs).map((m) => [
      m.mode,
      m.docs,
      m.failed,
      m.seconds,
      m.docsPerSec,
      m.runDocsPerSecond ?? undefined,
      m.modesLine,
    ]),
    2,
  );
}

// Alone: node bench/modes.ts [--seed S]
if (import.meta.main) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '42' } } });
  const started = new Date();
  const result = await measureModes({
    seed: Number(values.seed),
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    tag: `sluice_bench_${process.pid}`,
    log: (m) => process.stderr.write(`${m}\n`),
  }).catch(exitIfModesUnavailable);
  process.stdout.write(
    `${printModes(result)}\n\n${table(
      ['target', 'wanted', 'measured', 'met'],
      result.targets.map((t) => [t.name, t.target, t.measured, t.met ? 'yes' : 'NO']),
      2,
    )}\n`,
  );
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `modes-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ date: started.toISOString(), ...result }, null, 2)}\n`);
  process.stderr.write(`results: ${file}\n`);
}
