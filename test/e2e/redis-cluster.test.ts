// Issue 16: the whole pipeline on a Redis Cluster. SLUICE_REDIS_CLUSTER=1 with
// REDIS_URL naming one node of a private three-node cluster: a worker, `ingest
// --wait` and `search` run end to end, and every key sluice writes (BullMQ's, the
// rate limiter's, the reconciler's lock, the prefix's database binding) carries
// the {sluice} hash tag, so multi-key commands and scripts never cross slots.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.ts';

let cluster: TestCluster;
let db: TestDatabase;
let scratch: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  cluster = await startTestCluster();
  db = await createTestDatabase();
  scratch = scratchDir('cluster');
});

afterAll(async () => {
  await cluster?.close();
  await db?.drop();
  scratch?.cleanup();
});

/** Every key on every master of the cluster. */
async function allKeys(): Promise<string[]> {
  const client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
  try {
    await client.ping(); // the node list is known once connected
    const keys = await Promise.all(client.nodes('master').map((n) => n.keys('*')));
    return keys.flat();
  } finally {
    client.disconnect();
  }
}

describe('a Redis Cluster', () => {
  it('runs worker, ingest --wait, status and search end to end with every key in the {sluice} slot', async () => {
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: cluster.url,
      SLUICE_REDIS_CLUSTER: '1',
      // A shared provider budget: the limiter's Lua script runs on the cluster too.
      SLUICE_EMBED_RPM: '6000',
      SLUICE_LOCK_DURATION_MS: '3000',
      SLUICE_STALLED_INTERVAL_MS: '1500',
    };
    const dir = join(scratch.dir, 'docs');
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

    const keys = await allKeys();
    expect(keys).toContain('{sluice}:database');
    expect(keys.some((k) => k.startsWith('{sluice}:ratelimit:'))).toBe(true);
    expect(keys.some((k) => k.startsWith('{sluice}:load:'))).toBe(true);
    expect(keys.filter((k) => !k.startsWith('{sluice}:'))).toEqual([]);
  });
});
