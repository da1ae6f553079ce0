// sluice CLI entry. `runMain(argv, io)` returns the exit code and never calls
// process.exit, so tests drive it in-process. Commands load lazily: `--help` stays instant.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { type CliIO, EXIT, ExitError, formatError, type GlobalOpts, processIO } from './io.ts';

type Register = (program: Command, io: CliIO) => void;

// Top-level --help registers every command, so a command module imports no client
// library (pg, bullmq, ioredis, loaders, the runtime) at its top: its action does,
// with `await import(...)`. test/unit/cli/lazy-load.test.ts holds it to that.

const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  migrate: () => import('./migrate.ts'),
  ingest: () => import('./ingest.ts'),
  run: () => import('./run.ts'),
  worker: () => import('./worker.ts'),
  status: () => import('./status.ts'),
  retry: () => import('./retry.ts'),
  delete: () => import('./delete.ts'),
  search: () => import('./search.ts'),
  doctor: () => import('./doctor.ts'),
  reindex: () => import('./reindex.ts'),
  generations: () => import('./generations.ts'),
  switch: () => import('./switch.ts'),
  rollback: () => import('./rollback.ts'),
  retire: () => import('./retire.ts'),
  compare: () => import('./compare.ts'),
  watch: () => import('./watch.ts'),
  sources: () => import('./sources.ts'),
  serve: () => import('./serve.ts'),
  dashboard: () => import('./dashboard.ts'),
};

export async function buildProgram(io: CliIO, only?: string): Promise<Command> {
  const program = new Command('sluice')
    .description('Ingest documents into Postgres/pgvector through BullMQ stage workers.')
    .option('-c, --config <file>', 'config file (default: sluice.config.json|yaml in the current directory)')
    .option('--verbose', 'show stack traces and debug logs')
    .version(packageVersion(), '-V, --version', 'print the sluice version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const names = only && COMMANDS[only] ? [only] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!()).register(program, io);
  return program;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}

export async function runMain(argv: string[], io: CliIO = processIO()): Promise<number> {
  // Answered before any command module loads: instant, and works even if one cannot load.
  if (argv.length === 1 && (argv[0] === '-V' || argv[0] === '--version')) {
    io.stdout(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  const first = argv.find((a) => !a.startsWith('-'));
  const program = await buildProgram(io, first);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ExitError) {
      if (err.message) io.stderr(`${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    const g = program.opts<GlobalOpts>();
    io.stderr(`${formatError(err, io, g)}\n`);
    return EXIT.usage;
  }
}

// Run when executed directly (`node src/cli/main.ts`), not when imported by tests or bin/.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runMain(process.argv.slice(2));
}
