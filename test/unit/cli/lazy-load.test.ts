// Heavy parsers load on first use: what ingest and the runtime import must not pull in
// cheerio (and undici) or LangChain (with langsmith and zod-to-json-schema).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Packages loaded by importing the given project modules in a fresh process. */
function packagesLoadedBy(modules: string[]): string[] {
  const hook = [
    'import { registerHooks } from "node:module";',
    'const seen = new Set();',
    'registerHooks({ load(url, ctx, next) {',
    '  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(url); if (m) seen.add(m[1]);',
    '  return next(url, ctx); } });',
    'process.on("exit", () => process.stdout.write(JSON.stringify([...seen])));',
  ].join('\n');
  const script = modules.map((m) => `await import(${JSON.stringify(`./${m}`)});`).join('\n');
  const out = execFileSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, '--input-type=module', '-e', script],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return JSON.parse(out) as string[];
}

it('the runtime, producer and ingest command load no HTML parser and no LangChain', () => {
  const loaded = packagesLoadedBy(['src/queue/runtime.ts', 'src/queue/producer.ts', 'src/cli/ingest.ts']);
  expect(loaded).toContain('bullmq'); // the probe sees packages at all
  for (const heavy of ['cheerio', 'undici', '@langchain/textsplitters', '@langchain/core', 'langsmith']) {
    expect(loaded).not.toContain(heavy);
  }
});
