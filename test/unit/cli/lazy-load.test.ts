// Heavy libraries load on first use: what ingest and the runtime import must not pull in
// cheerio (and undici) or LangChain (with langsmith and zod-to-json-schema), and
// `sluice --help` (every command registered, none run) loads no client library at all.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Packages loaded by running the given module script (top-level await) in a fresh process. */
function packagesLoadedByScript(script: string): string[] {
  const hook = [
    'import { registerHooks } from "node:module";',
    'const seen = new Set();',
    'registerHooks({ load(url, ctx, next) {',
    '  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(url); if (m) seen.add(m[1]);',
    '  return next(url, ctx); } });',
    'process.on("exit", () => process.stdout.write(JSON.stringify([...seen])));',
  ].join('\n');
  const out = execFileSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, '--input-type=module', '-e', script],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return JSON.parse(out) as string[];
}

/** Packages loaded by importing the given project modules in a fresh process. */
function packagesLoadedBy(modules: string[]): string[] {
  return packagesLoadedByScript(modules.map((m) => `await import(${JSON.stringify(`./${m}`)});`).join('\n'));
}

it('the runtime, producer and ingest command load no HTML parser and no LangChain', () => {
  const loaded = packagesLoadedBy(['src/queue/runtime.ts', 'src/queue/producer.ts', 'src/cli/ingest.ts']);
  expect(loaded).toContain('pg'); // the probe sees packages at all
  for (const heavy of [
    'cheerio',
    'undici',
    '@langchain/textsplitters',
    '@langchain/core',
    'langsmith',
    // The embedded database (PGlite) loads only when a pool on a pglite:// URL connects.
    '@electric-sql/pglite',
    '@electric-sql/pglite-pgvector',
  ]) {
    expect(loaded).not.toContain(heavy);
  }
});

it('building the program for top-level --help loads no database, queue, cloud, watcher, web or parser library', () => {
  const loaded = packagesLoadedByScript(
    [
      'const { buildProgram } = await import("./src/cli/main.ts");',
      'const io = { stdout() {}, stderr() {}, isTTY: false, env: {}, cwd: process.cwd() };',
      'const program = await buildProgram(io);',
      // Every command registered: the probe would pass vacuously on an empty program.
      'if (program.commands.length < 19) throw new Error("only " + program.commands.length + " commands");',
    ].join('\n'),
  );
  expect(loaded).toContain('commander'); // the probe sees packages at all
  const heavy = loaded.filter((p) =>
    /^(bullmq|ioredis|pg|pg-pool|pgvector|pg-copy-streams|@aws-sdk\/.*|chokidar|hono|@hono\/.*|@bull-board\/.*|busboy|cheerio|undici|@langchain\/.*|langsmith|@electric-sql\/.*)$/.test(
      p,
    ),
  );
  expect(heavy).toEqual([]);
});
