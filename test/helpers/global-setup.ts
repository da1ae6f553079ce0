// Runs once per test run: proves Postgres has pgvector, builds a migrated
// template database, and hands its name to the test files, which each clone it
// (CREATE DATABASE ... TEMPLATE is much faster than migrating per file). Without
// a Postgres server the template is an embedded data directory, copied per file.
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { ADMIN_URL, dbUrl, testDbPrefix } from './db.ts';
import { tempHome } from './embedded.ts';
import { missingServer } from './servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (missingServer('postgres')) return embeddedTemplate(project);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `integration tests need Postgres at ${ADMIN_URL} (set TEST_ADMIN_DATABASE_URL): ${(err as Error).message}`,
    );
  }
  const avail = await admin.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
  if (avail.rowCount === 0) {
    await admin.end();
    throw new Error('pgvector is not installed on the test Postgres: run scripts/ensure-pgvector.sh');
  }
  const template = `sluice_tmpl_${process.pid}_${project.name}`;
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  const pool = createPool(dbUrl(template), { max: 1 });
  await migrate(pool);
  await pool.end();
  project.provide('templateDb', template);
  return async () => {
    // Test files drop their own databases; sweep leftovers of crashed files too.
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
      // Only this project's databases: projects run side by side in one process.
      [`${testDbPrefix(template)}%`, template],
    );
    for (const r of rows)
      await admin.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  };
}

/** A migrated embedded data directory (the queue schema too), closed so that files can copy it. */
async function embeddedTemplate(project: TestProject): Promise<() => Promise<void>> {
  const home = await tempHome(`tmpl-${project.name}`);
  const pool = createPool(home.url, { max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  project.provide('templateDb', home.dataDir);
  return home.remove;
}
