// needs a Postgres server: several processes share one database
// needs a Redis server: runs private redis-servers
// Issue 16: the whole pipeline on a Redis Cluster. SLUICE_REDIS_CLUSTER=1 with
// REDIS_URL naming one node of a private three-node cluster: a worker, `ingest
// --wait`, `status` and `search` run end to end, and every key sluice writes
// (BullMQ's, the rate limiter's, the reconciler's lock, the prefix's database
// binding) carries the prefix's hash tag, so scripts never cross slots. Once in
// plain text with the default prefix, once over TLS with a chosen one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.ts';

let scratch: ReturnType<typeof scratchDir>;

beforeAll(() => {
  scratch = scratchDir('cluster');
});

afterAll(() => {
  scratch?.cleanup();
});

/** Every key on every master of the cluster. */
async function allKeys(cluster: TestCluster): Promise<string[]> {
  const tls = cluster.caFile ? { tls: { ca: readFileSync(cluster.caFile) } } : {};
  const client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { redisOptions: tls });
  try {
    await client.ping(); // the node list is known once connected
    const keys = await Promise.all(client.nodes('master').map((n) => n.keys('*')));
    return keys.flat();
  } finally {
    client.disconnect();
  }
}

/** Worker, ingest --wait, status and search against `env`; then every key must start with `prefix`. */
async function endToEnd(cluster: TestCluster, env: Record<string, string>, prefix: string): Promise<void> {
  const dir = join(scratch.dir, prefix);
  mkdirSync(dir);
  for (let i = 0; i < 5; i++) {
    writeFileSync(
      join(dir, `log-${i}.txt`),
      `Log ${i}: the lighthouse keeper sighted schooner ${i} at dawn.\n`,
    );
  }
  const worker = await spawnWorker(env);
  let workerLog = '';
  worker.stderr?.on('data', (d) => (workerLog += d));
  try {
    const ingest = await runCli(['ingest', dir, '--wait', '--json'], { env, timeoutMs: 120_000 });
    expect(ingest.code, ingest.stderr).toBe(0);

    const status = await runCli(['status', '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    const counts = JSON.parse(status.stdout) as { queues: Record<string, { completed: number }> };
    expect(counts.queues.load?.completed).toBe(5);

    const search = await runCli(['search', 'schooner sighted at dawn', '--json', '-k', '3'], { env });
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout).toContain('lighthouse keeper');
  } finally {
    worker.kill('SIGTERM');
    expect(await waitExit(worker)).toBe(0);
  }
  expect(workerLog).not.toMatch(/CROSSSLOT|MOVED|reconciler:|queue prefix/);

  const keys = await allKeys(cluster);
  expect(keys).toContain(`${prefix}:database`);
  expect(keys.some((k) => k.startsWith(`${prefix}:ratelimit:`))).toBe(true);
  expect(keys.some((k) => k.startsWith(`${prefix}:load:`))).toBe(true);
  expect(keys.filter((k) => !k.startsWith(`${prefix}:`))).toEqual([]);
}

const baseEnv = (db: TestDatabase, cluster: TestCluster): Record<string, string> => ({
  DATABASE_URL: db.url,
  REDIS_URL: cluster.url,
  SLUICE_REDIS_CLUSTER: '1',
  // A shared provider budget: the limiter's Lua script runs on the cluster too.
  SLUICE_EMBED_RPM: '6000',
  SLUICE_LOCK_DURATION_MS: '3000',
  SLUICE_STALLED_INTERVAL_MS: '1500',
});

describe('a Redis Cluster', () => {
  let cluster: TestCluster;
  let db: TestDatabase;
  beforeAll(async () => {
    [cluster, db] = await Promise.all([startTestCluster(), createTestDatabase()]);
  });
  afterAll(async () => {
    await cluster?.close();
    await db?.drop();
  });

  it('runs worker, ingest --wait, status and search end to end with every key in the {sluice} slot', async () => {
    await endToEnd(cluster, baseEnv(db, cluster), '{sluice}');
  });
});

describe('a Redis Cluster over TLS', () => {
  let cluster: TestCluster;
  let db: TestDatabase;
  beforeAll(async () => {
    [cluster, db] = await Promise.all([startTestCluster({ tls: true }), createTestDatabase()]);
  });
  afterAll(async () => {
    await cluster?.close();
    await db?.drop();
  });

  it('runs the same over rediss:// with a private CA and a chosen {tag} prefix', async () => {
    const env = {
      ...baseEnv(db, cluster),
      SLUICE_REDIS_CA_FILE: cluster.caFile!,
      SLUICE_QUEUE_PREFIX: 'docs-{ingest}',
    };
    await endToEnd(cluster, env, 'docs-{ingest}');
  });
});
