import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { filesNotRun } from './test/helpers/needs.ts';
import { NO_SERVER_ENV, probeServers } from './test/helpers/servers.ts';

// Three projects mirror DESIGN.md's test layout: unit needs no services,
// integration and e2e use the real Redis and Postgres started by .ci/run. On a
// machine without them, integration and e2e run on the embedded stack (PGlite,
// BullMQ's PostgreSQL backend) and the files that need a real server are left
// out, one line each saying so (test/helpers/needs.ts).
export default defineConfig(async () => {
  const missing = await probeServers();
  const env: Record<string, string> = {};
  if (missing.postgres) env[NO_SERVER_ENV.postgres] = missing.postgres;
  if (missing.redis) {
    env[NO_SERVER_ENV.redis] = missing.redis;
    env.SLUICE_TEST_QUEUE = 'postgres';
  }
  Object.assign(process.env, env); // global-setup runs in this process
  const root = fileURLToPath(new URL('.', import.meta.url));
  const notRun = filesNotRun(root, ['test/integration', 'test/e2e'], missing);
  for (const n of notRun) console.log(n.line);
  const exclude = notRun.map((n) => n.file);
  return {
    test: {
      env,
      projects: [
        { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
        {
          test: {
            name: 'integration',
            include: ['test/integration/**/*.test.ts'],
            exclude,
            env,
            globalSetup: ['test/helpers/global-setup.ts'],
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
        {
          test: {
            name: 'e2e',
            include: ['test/e2e/**/*.test.ts'],
            exclude,
            env,
            globalSetup: ['test/helpers/global-setup.ts'],
            testTimeout: 180_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
