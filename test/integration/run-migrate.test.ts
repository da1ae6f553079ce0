// needs a Postgres server: migrates server databases through the admin connection
// needs a Redis server: reads the Redis queue directly
// `sluice run` on the embedded database brings the schema up to date itself
// (withRuntime's `migrate` option, chosen by run for embedded mode only): on a
// database with no sluice schema, the runtime opens migrated; without the option it
// refuses in one line, as every command does. Tried here on a bare server database.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withRuntime } from '../../src/cli/context.ts';
import { loadConfig } from '../../src/config.ts';
import { pendingMigrations } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { identityKey } from '../../src/queue/identity.ts';
import { ADMIN_URL, dbUrl, TEST_REDIS_URL, testDbPrefix, uniquePrefix } from '../helpers/db.ts';

const bare = `${testDbPrefix(inject('templateDb'))}bare_${randomBytes(3).toString('hex')}`;
const config = loadConfig({
  env: {
    DATABASE_URL: dbUrl(bare),
    REDIS_URL: TEST_REDIS_URL,
    SLUICE_QUEUE_PREFIX: uniquePrefix('run-migrate'),
    SLUICE_LOG_LEVEL: 'error',
  },
  cwd: '/',
});
const log = createLogger('error');

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(() => admin(`CREATE DATABASE ${bare}`));

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${bare} WITH (FORCE)`);
  const redis = new Redis(TEST_REDIS_URL);
  await redis.del(identityKey(config.queuePrefix));
  redis.disconnect();
});

describe('withRuntime { migrate }', () => {
  it('without it, a database with no schema is refused; with it, the runtime opens on a migrated one', async () => {
    await expect(withRuntime(config, log, 'producer', async () => 'ran')).rejects.toThrow(
      /(has no sluice schema|is missing \d+ sluice migration).*: run `sluice migrate` first/,
    );
    const pending = await withRuntime(
      config,
      log,
      'producer',
      (rt) => pendingMigrations(rt.pool, { queueSchema: true }),
      {
        migrate: true,
      },
    );
    expect(pending).toEqual([]);
  });
});
