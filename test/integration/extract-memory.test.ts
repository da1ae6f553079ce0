// Issue 16, big text inputs: the extract stage holds at most
// SLUICE_EXTRACT_BYTES_IN_FLIGHT source bytes between reading a document and
// storing its extraction (the stretch where a text file exists several times over:
// bytes, decoded text, sections, their JSON). Four files that do not fit together
// take turns, measured by the budget itself rather than by timing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { extractBudget } from '../../src/queue/stages/extract.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const FILE_BYTES = 3_000_000;
const BUDGET = 5_000_000; // room for one file, not two
let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  p = await startPipeline({
    label: 'extract-mem',
    stages: ['extract'],
    concurrency: 4,
    env: { SLUICE_EXTRACT_BYTES_IN_FLIGHT: String(BUDGET) },
  });
  scratch = scratchDir('extract-mem');
  for (let f = 0; f < 4; f++) {
    const line = `file ${f}: an ordinary line of plain text, repeated to make a big input.\n`;
    const text = line.repeat(Math.ceil(FILE_BYTES / line.length)).slice(0, FILE_BYTES);
    writeFileSync(join(scratch.dir, `big-${f}.txt`), text);
  }
});

afterAll(async () => {
  await p?.close();
  scratch?.cleanup();
});

it('four big text files extract one at a time when two do not fit the byte budget', async () => {
  const summary = await p.ingest([scratch.dir]);
  expect(summary.queued).toBe(4);
  await until('four extractions stored', async () => {
    const [row] = await p.query<{ n: string }>('SELECT count(*) AS n FROM sluice.extractions');
    return Number(row?.n) === 4;
  });
  const budget = extractBudget(p.rt);
  expect(budget.limit).toBe(BUDGET);
  // Never two files at once (that would be 6,000,000), and everything released.
  expect(budget.peak).toBe(FILE_BYTES);
  expect(budget.held).toBe(0);
  const failed = await p.query("SELECT uri FROM sluice.documents WHERE status = 'failed'");
  expect(failed).toEqual([]);
});
