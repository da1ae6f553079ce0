// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// The re-index commands as a user meets them: help, --json, exit codes 0/1/2,
// one-line errors saying what to do. Most run through runMain in this process
// (the same entry the binary calls; a process start costs seconds on a busy
// machine), a few through the real `sluice` binary. Workers run in the test
// process; the commands only talk to Postgres and Redis.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../../src/cli/main.ts';
import { runCli } from '../helpers/cli.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const COMMANDS = ['reindex', 'generations', 'switch', 'rollback', 'retire', 'compare'];
let p: TestPipeline;
let dir: string;

beforeAll(async () => {
  p = await startPipeline({ label: 'reindex-cli' });
  dir = mkdtempSync(join(tmpdir(), 'sluice-reindex-cli-'));
  const topics = ['rivers and lakes', 'mountain weather', 'harbor lights', 'copper mining', 'garden birds'];
  topics.forEach((t, i) => {
    writeFileSync(join(dir, `doc-${i}.md`), `# ${t}\n\nA note about ${t}, written for document ${i}.\n`);
  });
  await p.ingestAndWait([dir]);
});

afterAll(async () => {
  await p?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `sluice args...` in this process, with the pipeline's environment. */
async function sluice(args: string[], env: Record<string, string> = p.env) {
  let stdout = '';
  let stderr = '';
  const code = await runMain(args, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    isTTY: false,
    env,
    cwd: dir,
  });
  return { code, stdout, stderr };
}
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

function oneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr.trim().split('\n')).toHaveLength(1);
}

describe('help', () => {
  it.each(COMMANDS)('`sluice %s --help` exits 0 with usage', async (cmd) => {
    const res = await sluice([cmd, '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Usage: sluice ${cmd}`);
  });

  it('the binary knows the commands; `ingest --help` lists --dry-run', async () => {
    const res = await runCli(['reindex', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('--auto-switch');
    expect((await sluice(['ingest', '--help'])).stdout).toContain('--dry-run');
  });
});

describe('a re-index from the command line', () => {
  it('prices it, builds it, compares, switches, rolls back and retires', async () => {
    const dry = await sluice(['reindex', '--dimensions', '256', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(json(dry.stdout)).toMatchObject({ dryRun: true, documents: 5, dimensions: 256, pricePerMTok: 0 });
    const listed = json((await sluice(['generations', '--json'])).stdout) as { generations: unknown[] };
    expect(listed.generations).toHaveLength(1); // a dry run creates nothing

    const built = await sluice(['reindex', '--dimensions', '256', '--wait', '--json']);
    expect(built.code).toBe(0);
    expect(json(built.stdout)).toMatchObject({
      generation: 2,
      from: 1,
      result: { state: 'ready', chunks: 5 },
    });

    const gens = await runCli(['generations', '--collection', 'default'], { env: p.env });
    expect(gens.code).toBe(0);
    expect(gens.stdout).toMatch(/#2 ready\s+5\/5 docs, 5 chunks, hash\/hash-v1 256-d/);
    expect(gens.stdout).toMatch(/#1 active\s+5\/5 docs/);

    const queries = join(dir, 'queries.txt');
    writeFileSync(queries, 'mountain weather\n\nharbor lights at night\n');
    const cmp = await sluice(['compare', 'default', '--queries', queries, '-k', '3', '--json']);
    expect(cmp.code).toBe(0);
    const c = json(cmp.stdout) as { from: number; to: number; queries: { documentOverlap: number }[] };
    expect(c).toMatchObject({ from: 1, to: 2 });
    expect(c.queries).toHaveLength(2);
    for (const q of c.queries) expect(q.documentOverlap).toBeGreaterThanOrEqual(0);
    const sampled = await sluice(['compare', 'default']);
    expect(sampled.code).toBe(0);
    expect(sampled.stdout).toMatch(/generation 1 \(active\) vs 2, 5 queries/);

    const sw = await sluice(['switch', 'default', '--json']);
    expect(sw.code).toBe(0);
    expect(json(sw.stdout)).toMatchObject({ from: 1, to: 2 });
    // Flags change only what they name: a chunk change keeps the active generation's 256 dims.
    const next = await sluice(['reindex', '--chunk-size', '500', '--dry-run', '--json']);
    expect(next.code).toBe(0);
    expect(json(next.stdout)).toMatchObject({ dimensions: 256, embedder: 'hash' });
    const found = await sluice(['search', 'harbor lights', '--json']);
    expect(found.code).toBe(0);
    expect((json(found.stdout).results as { uri: string }[])[0]?.uri).toMatch(/doc-2\.md$/);

    const back = await sluice(['rollback', 'default']);
    expect(back.code).toBe(0);
    expect(back.stderr).toMatch(/searches now read generation 1 again/);

    const activeRetire = await sluice(['retire', 'default', '1']);
    expect(activeRetire.code).toBe(2);
    oneLineError(activeRetire.stderr, /generation 1 is the active one: switch to another first/);
    const retired = await sluice(['retire', 'default', '2', '--json']);
    expect(retired.code).toBe(0);
    expect(json(retired.stdout)).toMatchObject({ generation: 2, chunksDropped: 5 });
    const noTarget = await sluice(['rollback', 'default']);
    expect(noTarget.code).toBe(2);
    oneLineError(noTarget.stderr, /no earlier generation to return to/);
  });

  it('ingest --dry-run reports tokens and price and queues nothing', async () => {
    writeFileSync(join(dir, 'new.md'), '# New\n\nSomething not ingested yet.\n');
    const res = await sluice(['ingest', dir, '--dry-run', '--json']);
    expect(res.code).toBe(0);
    expect(json(res.stdout)).toMatchObject({ dryRun: true, documents: 2, unchanged: 5, estimatedCost: 0 });
    const human = await sluice(['ingest', dir, '--dry-run']);
    expect(human.stdout).toMatch(/nothing was embedded/);
    expect(human.stdout).toMatch(/to embed: \d+ tokens/);
    const [row] = await p.query<{ n: string }>(
      `SELECT count(*) AS n FROM sluice.documents WHERE uri LIKE '%new.md'`,
    );
    expect(Number(row?.n)).toBe(0);
  });

  it('status --json has the re-index section (builds, budget)', async () => {
    const res = await sluice(['status', '--json']);
    expect(res.code).toBe(0);
    expect(json(res.stdout)).toHaveProperty('reindex.builds');
  });

  it('usage and state errors exit 2 with one line saying what to do', async () => {
    const same = await sluice(['reindex']);
    expect(same.code).toBe(2);
    oneLineError(same.stderr, /already uses these settings; pass --embedder/);
    const missing = await sluice(['reindex', '--collection', 'nope', '--dimensions', '64']);
    expect(missing.code).toBe(2);
    oneLineError(missing.stderr, /collection "nope" does not exist: ingest something first/);
    const budget = await sluice(['reindex', '--budget', '0']);
    expect(budget.code).toBe(2);
    oneLineError(budget.stderr, /--budget must be a whole number/);
    const nothing = await sluice(['switch', 'default']);
    expect(nothing.code).toBe(2);
    oneLineError(nothing.stderr, /no new generation to switch to: build one with `sluice reindex/);
    const badQueries = await sluice(['compare', 'default', '--queries', join(dir, 'absent.txt')]);
    expect(badQueries.code).toBe(2);
    oneLineError(badQueries.stderr, /cannot read --queries file/);
    const mismatch = await sluice(['ingest', dir], { ...p.env, SLUICE_EMBED_DIMENSIONS: '128' });
    expect(mismatch.code).toBe(2);
    oneLineError(
      mismatch.stderr,
      /Run `sluice reindex --collection default` to rebuild it with these settings/,
    );
  });
});
