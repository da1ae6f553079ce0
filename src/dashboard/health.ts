// Probes: /healthz says the process is up; /readyz says it can do its job
// (Postgres answers, the queue store answers, migrations are current). Answers
// name what is wrong but never a host, user or connection string.
import { Hono } from 'hono';
import { pendingMigrations } from '../db/migrate.ts';
import type { Runtime } from '../queue/runtime.ts';
import type { DashEnv } from './env.ts';
import { withTimeout } from './overview-data.ts';

export function healthRoutes(rt: Runtime): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.get('/healthz', (c) => c.text('ok'));
  app.get('/readyz', async (c) => {
    const check = (p: Promise<unknown>, fail: string) =>
      withTimeout(p, 2000).then(
        () => 'ok',
        () => fail,
      );
    const [postgres, queue, migrations] = await Promise.all([
      check(rt.pool.query('SELECT 1'), 'unreachable'),
      check(rt.queue.ping(), 'unreachable'),
      withTimeout(pendingMigrations(rt.pool, { queueSchema: rt.queue.kind === 'postgres' }), 2000).then(
        (pending) =>
          pending.length === 0 ? 'current' : `pending: ${pending.join(', ')} (run sluice migrate)`,
        () => 'unknown',
      ),
    ]);
    const ready = postgres === 'ok' && queue === 'ok' && migrations === 'current';
    return c.json({ ready, postgres, queue, migrations }, ready ? 200 : 503);
  });
  return app;
}
