// needs a Redis server: stops and starts a private redis-server
// A watcher that loses Redis (a private redis-server, stopped and started) or
// Postgres (the shared server made unreachable through a cut TCP proxy)
// reconnects and resumes: files written during the outage are ingested after it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createRuntime, type Runtime } from '../../src/queue/runtime.ts';
import { parseSpec, startWatching, type WatchHandle } from '../../src/sources/watch.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { until } from '../helpers/until.ts';

const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');
let redis: TestRedis;
let proxy: TcpProxy;
let p: TestPipeline;
let watcherRt: Runtime;
let handle: WatchHandle;
let scratch: ReturnType<typeof scratchDir>;
let root: string;
const warnings: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  proxy = await startTcpProxy(5432);
  p = await startPipeline({
    label: 'src-reconnect',
    env: { REDIS_URL: redis.url, SLUICE_WATCH_STABLE_MS: '200' },
  });
  // The watcher reaches Postgres through the proxy; the workers connect directly.
  const url = new URL(p.db.url);
  url.port = String(proxy.port);
  const log = createLogger('warn', { write: (line) => void warnings.push(line) });
  watcherRt = await createRuntime({ ...p.config, databaseUrl: url.toString() }, { log });
  scratch = scratchDir('reconnect');
  root = join(scratch.dir, 'docs');
  mkdirSync(root);
  handle = await startWatching(watcherRt, [parseSpec(root, '/')], { collection: 'default' });
  await handle.allActive();
});

afterAll(async () => {
  await handle?.close();
  await watcherRt?.close();
  await p?.close();
  await proxy?.close();
  await redis?.close();
  scratch?.cleanup();
});

const status = async (name: string) =>
  (
    await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri = $1', [
      join(root, name),
    ])
  )[0]?.status;

describe('watcher outages', () => {
  it('resumes after Redis goes away and comes back', async () => {
    writeFileSync(join(root, 'before.txt'), `before\n${TEXT}`);
    await until('before.txt indexed', async () => (await status('before.txt')) === 'done');
    await redis.stop();
    writeFileSync(join(root, 'during-redis.txt'), `during the Redis outage\n${TEXT}`);
    // The watcher records the version in Postgres, then waits on Redis to queue it.
    await until(
      'version recorded while Redis is down',
      async () => (await status('during-redis.txt')) === 'queued',
    );
    await redis.start();
    await until('during-redis.txt indexed', async () => (await status('during-redis.txt')) === 'done');
  });

  it('resumes after Postgres becomes unreachable and comes back', async () => {
    await proxy.cut();
    writeFileSync(join(root, 'during-pg.txt'), `during the Postgres outage\n${TEXT}`);
    await until('the watcher noticed', () => warnings.some((w) => /retrying, then catching up/.test(w)));
    expect(await status('during-pg.txt')).toBeUndefined();
    await proxy.restore();
    await until('during-pg.txt indexed', async () => (await status('during-pg.txt')) === 'done', {
      timeoutMs: 90_000,
    });
    expect(warnings.join('')).not.toMatch(/Unhandled|uncaught/i);
  });
});
