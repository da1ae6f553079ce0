// needs a Postgres server: several processes share one database
// needs a Redis server: runs private redis-servers
// Issue 16: a managed-style Redis: TLS only (rediss://), a certificate from a
// private CA (SLUICE_REDIS_CA_FILE), an ACL user with a password. The pipeline
// runs end to end, and the password never appears in any output.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { createTestDatabase, type TestDatabase, uniquePrefix } from '../helpers/db.ts';
import { startTlsRedis, type TlsRedis } from '../helpers/redis-tls.ts';

const USER = 'sluice-app';
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const PREFIX = uniquePrefix('tls');

let redis: TlsRedis;
let db: TestDatabase;
let scratch: ReturnType<typeof scratchDir>;
let env: Record<string, string>;

beforeAll(async () => {
  // As a managed Redis would grant it: only keys under the prefix, no admin commands.
  redis = await startTlsRedis({
    user: USER,
    password: PASSWORD,
    rules: [`~${PREFIX}:*`, '&*', '+@all', '-@dangerous', '+info'],
  });
  db = await createTestDatabase();
  scratch = scratchDir('redis-tls');
  env = {
    DATABASE_URL: db.url,
    REDIS_URL: `rediss://${USER}:${PASSWORD}@127.0.0.1:${redis.port}`,
    SLUICE_REDIS_CA_FILE: redis.caFile,
    SLUICE_QUEUE_PREFIX: PREFIX,
    SLUICE_LOCK_DURATION_MS: '3000',
    SLUICE_STALLED_INTERVAL_MS: '1500',
  };
});

afterAll(async () => {
  await redis?.close();
  await db?.drop();
  scratch?.cleanup();
});

describe('rediss:// with a private CA and an ACL user', () => {
  it('runs worker, ingest --wait, doctor and search end to end; the password is never printed', async () => {
    const dir = join(scratch.dir, 'docs');
    mkdirSync(dir);
    for (let i = 0; i < 3; i++) {
      writeFileSync(
        join(dir, `memo-${i}.txt`),
        `Memo ${i}: the ferry to the island leaves at ${i + 6} am.\n`,
      );
    }
    const worker = await spawnWorker({ ...env, SLUICE_LOG_LEVEL: 'debug' });
    let workerLog = '';
    worker.stderr?.on('data', (d) => (workerLog += d));
    const outputs: string[] = [];
    try {
      const ingest = await runCli(['ingest', dir, '--wait'], { env, timeoutMs: 120_000 });
      outputs.push(ingest.stdout, ingest.stderr);
      expect(ingest.code, ingest.stderr).toBe(0);
      expect(ingest.stderr).toMatch(/3 done/);

      const doctor = await runCli(['doctor'], { env });
      outputs.push(doctor.stdout, doctor.stderr);
      expect(`${doctor.stdout}${doctor.stderr}`).toMatch(/Redis \d+\.\d+\.\d+ at 127\.0\.0\.1:\d+/);

      const search = await runCli(['search', 'ferry to the island', '--json'], { env });
      outputs.push(search.stdout, search.stderr);
      expect(search.code, search.stderr).toBe(0);
      expect(search.stdout).toContain('ferry to the island');
    } finally {
      worker.kill('SIGTERM');
      await waitExit(worker);
    }
    for (const text of [...outputs, workerLog]) expect(text).not.toContain(PASSWORD);
    // Nothing it needs was refused by the ACL (CONFIG is: the policy checks are skipped).
    expect(workerLog).not.toMatch(/NOPERM|reconciler:|queue prefix/);
  });

  it('without the CA, or with a wrong password, exits 2 with one line saying what to check, no password', async () => {
    const { SLUICE_REDIS_CA_FILE: _ca, ...noCa } = env;
    const untrusted = await runCli(['ingest', scratch.dir], { env: noCa });
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(
      /cannot reach Redis at 127\.0\.0\.1:\d+: .*certificate.*SLUICE_REDIS_CA_FILE/,
    );
    expect(untrusted.stderr).not.toContain(PASSWORD);

    const wrong = `${PASSWORD}x`;
    const denied = await runCli(['ingest', scratch.dir], {
      env: { ...env, REDIS_URL: `rediss://${USER}:${wrong}@127.0.0.1:${redis.port}` },
    });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(
      /authentication to Redis at 127\.0\.0\.1:\d+ failed \(WRONGPASS\): .*REDIS_URL/,
    );
    expect(denied.stderr).not.toContain(PASSWORD);
  });
});
