// `sluice doctor`: say which mode the database and queue are in, check each
// dependency on its own and say what to fix. Redis is checked only when it is the
// queue (REDIS_URL set); otherwise one `skip` line says why.
import type { Command } from 'commander';
import { hostOf, whereDatabase } from '../config.ts';
import { createEmbedder } from '../embedders/index.ts';
import { messageOf } from '../errors.ts';
import { type CliIO, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';
import { modesOf, redisSkipReason } from './modes.ts';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('doctor')
    .description(
      'check the queue store (Redis, or Postgres when REDIS_URL is unset), Postgres, pgvector, migrations and the embedder',
    )
    .option('--json', 'print checks as JSON on stdout')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g);
      const { connectRedis } = await import('../queue/connection.ts');
      const { appendOnly, appendOnlyWarning, evictionPolicy } = await import('../queue/queues.ts');
      const { createPool } = await import('../db/pool.ts');
      const { pendingMigrations } = await import('../db/migrate.ts');
      const modes = modesOf(config);
      const checks: Check[] = [];
      const warnings: Check[] = [];
      const skipped: { name: string; detail: string }[] = [];
      const check = async (name: string, fn: () => Promise<string>) => {
        try {
          checks.push({ name, ok: true, detail: await fn() });
        } catch (err) {
          checks.push({ name, ok: false, detail: messageOf(err) });
        }
      };
      const redisUrl = config.redisUrl;
      const skipRedis = redisSkipReason(modes);
      if (skipRedis) skipped.push({ name: 'redis', detail: skipRedis });
      if (redisUrl === undefined) {
        // No REDIS_URL: the queues are BullMQ's PostgreSQL backend in the same database.
        await check('queue', async () => {
          const { connectQueueBackend } = await import('../queue/backend.ts');
          const backend = await connectQueueBackend(config, { kind: 'producer', poolMax: 1 });
          try {
            await backend.ping();
            return `${backend.description} (REDIS_URL unset)`;
          } finally {
            await backend.close();
          }
        });
      } else
        await check('redis', async () => {
          const redis = await connectRedis({ ...config, redisUrl }, 'producer');
          try {
            const info = await redis.info('server');
            const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
            const policy = await evictionPolicy(redis);
            if (policy && policy !== 'noeviction') {
              throw new Error(
                `Redis ${version} at ${hostOf(redisUrl)} has maxmemory-policy ${policy}; set noeviction`,
              );
            }
            const aof = await appendOnly(redis);
            const warning = appendOnlyWarning(aof);
            if (warning) warnings.push({ name: 'redis', ok: true, detail: warning });
            return `Redis ${version} at ${hostOf(redisUrl)}, maxmemory-policy ${policy ?? 'unknown'}, appendonly ${aof ?? 'unknown'}`;
          } finally {
            redis.disconnect();
          }
        });
      const pool = createPool(config.databaseUrl, { max: 1 });
      try {
        await check('postgres', async () => {
          const { rows } = await pool.query<{ v: string }>('SELECT current_setting($1) AS v', [
            'server_version',
          ]);
          return `PostgreSQL ${rows[0]?.v}, ${whereDatabase(config.databaseUrl)}`;
        });
        await check('pgvector', async () => {
          const { rows } = await pool.query<{ installed: string | null; available: string | null }>(
            `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS installed,
                    (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS available`,
          );
          const r = rows[0];
          if (!r?.available)
            throw new Error(
              'pgvector is not installed on the server (see README: scripts/ensure-pgvector.sh)',
            );
          return r.installed
            ? `vector ${r.installed} installed`
            : `vector ${r.available} available (run sluice migrate)`;
        });
        await check('migrations', async () => {
          const pending = await pendingMigrations(pool, { queueSchema: redisUrl === undefined });
          if (pending.length > 0)
            throw new Error(`${pending.length} pending: ${pending.join(', ')}; run \`sluice migrate\``);
          return 'up to date';
        });
      } finally {
        await pool.end().catch(() => undefined);
      }
      await check('embedder', async () => {
        const embedder = await createEmbedder(config);
        try {
          const [v] = await embedder.embed(['sluice doctor']);
          return `${embedder.id}/${embedder.model}: ${v?.length} dimensions`;
        } finally {
          await embedder.close?.();
        }
      });
      const warned = warnings.map((w) => ({ name: w.name, detail: w.detail }));
      if (g.json) writeJson(io, { ok: checks.every((c) => c.ok), modes, checks, skipped, warnings: warned });
      else {
        io.stdout(`mode database   ${modes.database.kind} (${modes.database.where})\n`);
        io.stdout(`mode queue      ${modes.queue.kind} (${modes.queue.where})\n`);
        for (const s of skipped) io.stdout(`skip ${s.name.padEnd(10)} ${s.detail}\n`);
        for (const c of checks) io.stdout(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(10)} ${c.detail}\n`);
        for (const w of warned) io.stdout(`warn ${w.name.padEnd(10)} ${w.detail}\n`);
      }
      if (!checks.every((c) => c.ok)) throw new ExitError(EXIT.usage);
    });
}
