// needs a Postgres server: several processes share one database
// needs a Redis server: runs private redis-servers
// A wrong Redis password must be reported as an authentication failure naming
// REDIS_URL, never as "Connection is closed", and never with the password in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';

const PASSWORD = 'right-horse-battery';
let redis: TestRedis;
let db: TestDatabase;

beforeAll(async () => {
  redis = await startTestRedis({ password: PASSWORD });
  db = await createTestDatabase();
});

afterAll(async () => {
  await redis?.close();
  await db?.drop();
});

describe('Redis authentication', () => {
  it.each([
    ['a wrong password', 'wrong-pass-1234', 'WRONGPASS'],
    ['no password', '', 'NOAUTH'],
  ])(
    '%s: says authentication failed and to check REDIS_URL, never the password',
    async (_, password, reply) => {
      const url = `redis://${password ? `:${password}@` : ''}127.0.0.1:${redis.port}`;
      for (const command of [['doctor'], ['worker'], ['ingest', '/etc/hostname']]) {
        const res = await runCli(command, { env: { DATABASE_URL: db.url, REDIS_URL: url } });
        const out = res.stdout + res.stderr;
        expect(res.code, command.join(' ')).not.toBe(0);
        expect(out).toContain(`authentication to Redis at 127.0.0.1:${redis.port} failed (${reply})`);
        expect(out).toContain('REDIS_URL');
        expect(out).not.toContain('Connection is closed');
        if (password) expect(out).not.toContain(password);
      }
    },
  );

  it('the right password connects', async () => {
    const res = await runCli(['doctor', '--json'], {
      env: { DATABASE_URL: db.url, REDIS_URL: redis.url },
    });
    const checks = (JSON.parse(res.stdout) as { checks: { name: string; ok: boolean }[] }).checks;
    expect(checks.find((c) => c.name === 'redis')?.ok).toBe(true);
  });
});
