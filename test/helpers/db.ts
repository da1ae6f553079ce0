// Per-test-file databases cloned from the migrated template built in global-setup:
// a server database, or without a Postgres server an embedded one (a copy of the
// template's data directory under a temporary SLUICE_HOME).
import { randomBytes } from 'node:crypto';
import { cp } from 'node:fs/promises';
import { basename } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { tempHome } from './embedded.ts';
import { ADMIN_URL, missingServer, TEST_REDIS_URL } from './servers.ts';

export { ADMIN_URL, TEST_REDIS_URL };

/**
 * The queue backend the pipeline suites run on: SLUICE_TEST_QUEUE=postgres runs
 * them on BullMQ's PostgreSQL backend (REDIS_URL unset), else on the test Redis.
 */
export type TestQueue = 'redis' | 'postgres';
export const TEST_QUEUE: TestQueue = process.env.SLUICE_TEST_QUEUE === 'postgres' ? 'postgres' : 'redis';

/** The queue part of a test's environment: REDIS_URL for Redis, nothing for the Postgres queue. */
export function queueEnv(queue: TestQueue = TEST_QUEUE): Record<string, string> {
  return queue === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {};
}

/**
 * Declares that a case does not run on the Postgres queue (Redis-only, or waiting
 * on a part not here yet), in one line of the test output, never silently; true
 * when it is skipped.
 */
export function skipOnPostgresQueue(why: string): boolean {
  if (TEST_QUEUE !== 'postgres') return false;
  console.log(`not run on the Postgres queue (SLUICE_TEST_QUEUE=postgres): ${why}`);
  return true;
}

/**
 * Declares that a case needs a Postgres server (the run is on the embedded
 * database), in one line of the test output, never silently; true when it is skipped.
 */
export function skipWithoutPostgresServer(why: string): boolean {
  const missing = missingServer('postgres');
  if (!missing) return false;
  console.log(`not run on the embedded database (${missing}): ${why}`);
  return true;
}

export function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Databases cloned from a template share its run and project, so that project's teardown sweeps only them. */
export function testDbPrefix(template: string): string {
  return `${template.replace('sluice_tmpl_', 'sluice_t_')}_`;
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (missingServer('postgres')) return copyEmbeddedTemplate();
  const template = inject('templateDb');
  const name = `${testDbPrefix(template)}${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    // Concurrent clones of one template can collide briefly ("being accessed by other users"): retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (err) {
        if (attempt >= 20 || !/being accessed/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return { name, url: dbUrl(name), drop: () => dropDatabase(name) };
}

/** The embedded database the template's data directory (global-setup) is copied into. */
async function copyEmbeddedTemplate(): Promise<TestDatabase> {
  const template = inject('templateDb');
  const home = await tempHome('test');
  await cp(template, home.dataDir, { recursive: true });
  return { name: basename(home.home), url: home.url, drop: home.remove };
}

/** An empty database (no sluice schema, no queue schema), e.g. to watch what migrations create. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  if (missingServer('postgres')) {
    const home = await tempHome('empty');
    return { name: basename(home.home), url: home.url, drop: home.remove };
  }
  const name = `sluice_empty_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return { name, url: dbUrl(name), drop: () => dropDatabase(name) };
}

async function dropDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
  await c.end();
}

/** A queue prefix no other test file uses. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
