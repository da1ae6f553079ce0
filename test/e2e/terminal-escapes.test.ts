// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// File names are user data: one holding a terminal escape sequence, a bell and a
// C1 control must never reach the terminal raw through any command's output —
// names, error messages quoting them, commander's own errors, or JSON.
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../src/queue/jobs.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/supervisor.ts';
import { type CliResult, runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

// Every control character but the newline (multi-line output is by design).
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const HOSTILE = '\u001b[31m\u0007\u009b';

let p: TestPipeline;
let workers: WorkerSet | undefined;
let scratch: ReturnType<typeof scratchDir>;
let dir: string;

beforeAll(async () => {
  p = await startPipeline({ label: 'escapes', stages: [] });
  scratch = scratchDir('escapes');
  dir = join(scratch.dir, `in${HOSTILE}box`);
  mkdirSync(dir);
});

afterAll(async () => {
  await workers?.close();
  await p?.close();
  scratch?.cleanup();
});

function expectInert(res: CliResult): void {
  for (const [stream, text] of [
    ['stdout', res.stdout],
    ['stderr', res.stderr],
  ] as const) {
    const at = text.search(RAW_CONTROL);
    expect(
      at,
      `${stream} holds a raw control character: ${JSON.stringify(text.slice(at - 40, at + 10))}`,
    ).toBe(-1);
  }
}

describe('hostile file names', () => {
  it('ingest --wait reports a failure quoting the name with its controls escaped', async () => {
    writeFileSync(join(dir, `red${HOSTILE}.txt`), 'a document about lighthouses and their keepers');
    const gone = join(dir, `gone${HOSTILE}.txt`);
    writeFileSync(gone, 'this file is deleted after it was queued');
    // No worker yet: the file vanishes while queued, so its failure message quotes its path.
    const ingest = runCli(['ingest', dir, '--wait'], { env: p.env });
    await until('both documents queued', async () => {
      const [r] = await p.query<{ n: string }>(
        "SELECT count(*) AS n FROM sluice.documents WHERE status = 'queued'",
      );
      return Number(r?.n) === 2;
    });
    unlinkSync(gone);
    workers = await startWorkers(p.rt, [...STAGES], { concurrency: 2 });
    const res = await ingest;
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('gone\\u{1b}[31m\\u{7}\\u{9b}.txt');
    expect(res.stderr).toContain('no longer exists');
    expectInert(res);
  });

  it('status, search, delete, retry and sources print the names escaped (text and JSON)', async () => {
    const runs: CliResult[] = [];
    for (const args of [
      ['status'],
      ['status', '--json'],
      ['search', 'lighthouses'],
      ['search', 'lighthouses', '--json'],
      ['delete', join(dir, `nothing${HOSTILE}.txt`)],
      ['retry', join(dir, `nothing${HOSTILE}.txt`)],
      ['sources', 'approve-deletes', join(dir, `nothing${HOSTILE}`)],
    ]) {
      runs.push(await runCli(args, { env: p.env }));
    }
    expect(runs[0]?.stdout).toContain(`gone\\u{1b}[31m\\u{7}\\u{9b}.txt`);
    expect(runs[2]?.stdout).toContain(`red\\u{1b}[31m\\u{7}\\u{9b}.txt`);
    // JSON keeps the value: the name parses back to the real characters.
    const json = JSON.parse(runs[1]?.stdout ?? '') as { recentFailures: { uri: string }[] };
    expect(json.recentFailures[0]?.uri).toContain(`gone${HOSTILE}.txt`);
    for (const res of runs) expectInert(res);
  });

  it('errors that quote what was typed: no matching files, unknown options', async () => {
    const glob = await runCli(['ingest', join(dir, `none${HOSTILE}*.pdf`)], { env: p.env });
    expect(glob.code).toBe(2);
    expect(glob.stderr).toContain('no files match');
    expectInert(glob);
    const option = await runCli(['status', `--bogus${HOSTILE}`], { env: p.env });
    expect(option.code).toBe(2);
    expectInert(option);
  });
});
