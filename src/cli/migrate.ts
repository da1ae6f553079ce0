// `sluice migrate`: apply pending SQL migrations under an advisory lock, over
// SLUICE_DIRECT_DATABASE_URL when set (DDL does not belong on a transaction pooler).
import type { Command } from 'commander';
import { withDatabase } from './context.ts';
import { type CliIO, cliLogger, type GlobalOpts, readConfig, writeJson } from './io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('migrate')
    .description('create or upgrade the sluice schema (safe to run from several machines at once)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const g = { ...cmd.optsWithGlobals<GlobalOpts>(), ...opts };
      const config = readConfig(io, g);
      const log = cliLogger(io, config, g);
      const { migrate } = await import('../db/migrate.ts');
      const { createPool, sessionDatabaseUrl } = await import('../db/pool.ts');
      const url = sessionDatabaseUrl(config);
      await withDatabase(
        { ...config, databaseUrl: url },
        createPool(url, { max: 1 }),
        async (pool) => {
          const results = await migrate(pool);
          if (g.json) writeJson(io, { migrations: results });
          else {
            const applied = results.filter((r) => r.status === 'applied');
            for (const r of applied) log.info(`applied ${r.name}`);
            io.stderr(
              `${applied.length} migration(s) applied, ${results.length - applied.length} already up to date
`,
            );
          }
        },
        { schema: false },
      );
    });
}
