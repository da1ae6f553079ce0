// needs a Postgres server: several processes share one database
// needs a Redis server: runs private redis-servers
// `ingest --wait` while Redis goes away and comes back: the workers reconnect and
// finish, and the waiting CLI (which polls Postgres) must finish too, with exit 0
// and no ioredis stack trace (issue 12). A private redis-server is stopped and
// restarted; the shared one is never touched.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

let redis: TestRedis;
let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  redis = await startTestRedis();
  // Chunking waits 300 ms per job so the run outlasts the outage.
  p = await startPipeline({
    label: 'redis-drop',
    env: { REDIS_URL: redis.url, SLUICE_FAULT_INJECTION: 'chunk:before:300' },
    concurrency: 2,
  });
  scratch = scratchDir('redis-drop');
});

afterAll(async () => {
  await p?.close();
  await redis?.close();
  scratch?.cleanup();
});

async function poll(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Redis drops during ingest --wait', () => {
  it('the waiting CLI rides out the outage: exit 0, every document done, no stack trace', async () => {
    const dir = join(scratch.dir, 'docs');
    mkdirSync(dir);
    for (let i = 0; i < 16; i++) {
      writeFileSync(
        join(dir, `note-${i}.txt`),
        `Note ${i}: the lighthouse keeper logged ship ${i * 7} at dawn.\n`,
      );
    }
    const started = Date.now();
    const cli = runCli(['ingest', dir, '--wait', '--timeout', '150'], { env: p.env, timeoutMs: 170_000 });
    const done = async () => {
      const [r] = await p.query<{ n: string }>(
        "SELECT count(*) AS n FROM sluice.documents WHERE status = 'done'",
      );
      return Number(r?.n) > 0;
    };
    await poll('the first document to finish (the CLI is waiting)', done);
    await redis.stop();
    // The CLI asks Redis whether workers run once it has waited 3 s: keep Redis down past that.
    await poll('the CLI to pass its worker check', async () => Date.now() - started > 5000);
    await redis.start();
    const res = await cli;
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(res.stderr).not.toContain('ioredis');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('this run: 16 done');
  }, 180_000);
});
