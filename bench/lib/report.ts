// Turns the raw measurements of a benchmark run into figures (docs/s, MB/s,
// chunks/s, latency, RSS), ratios and target verdicts, and prints them as
// tables. The JSON file holds all of it plus the raw measurements.
import type { BaselineResult } from '../baseline.ts';
import type { CopyLimitResult } from '../copy-limit.ts';
import { type ModesResult, printModes } from '../modes.ts';
import type { SluiceResult } from './sluice.ts';
import { type Cell, ratio, table } from './table.ts';

export interface ReportInput {
  meta: {
    date: string;
    commit: string;
    dirty: boolean;
    node: string;
    nproc: number;
    memoryGb: number;
    redis: string;
    quick: boolean;
    totalSeconds: number;
  };
  params: Record<string, unknown> & { corpusBytes: number; subsetBytes: number; b2Bytes: number };
  sluice: Record<string, SluiceResult>;
  baselineA: BaselineResult;
  baselineB: BaselineResult;
  extras: Record<string, unknown>;
}

export interface Figures {
  docs: number;
  seconds: number;
  docsPerSec: number;
  mbPerSec: number;
  chunksPerSec: number;
  p50Seconds?: number;
  p95Seconds?: number;
  peakRssMb: number;
  embedRequests?: number;
}

export interface Target {
  name: string;
  target: string;
  measured: number;
  met: boolean;
}

export type Report = ReportInput & {
  figures: Record<string, Figures>;
  ratios: Record<string, number>;
  targets: Target[];
};

function sluiceFigures(r: SluiceResult, bytes: number): Figures {
  const first = r.phases[0]!;
  return {
    docs: r.docs.done,
    seconds: first.seconds,
    docsPerSec: r.docs.done / first.seconds,
    mbPerSec: bytes / 1e6 / first.seconds,
    chunksPerSec: r.docs.chunks / first.seconds,
    p50Seconds: r.docs.p50Seconds,
    p95Seconds: r.docs.p95Seconds,
    peakRssMb: Math.max(...r.phases.flatMap((p) => p.peakRssMb)),
    ...(first.embedRequests ? { embedRequests: first.embedRequests.requests } : {}),
  };
}

function baselineFigures(b: BaselineResult, requests?: number): Figures {
  return {
    docs: b.documents,
    seconds: b.seconds,
    docsPerSec: b.documents / b.seconds,
    mbPerSec: b.bytes / 1e6 / b.seconds,
    chunksPerSec: b.chunks / b.seconds,
    peakRssMb: b.peakRssMb,
    ...(requests === undefined ? {} : { embedRequests: requests }),
  };
}

export function buildReport(input: ReportInput): Report {
  const { sluice, params, extras } = input;
  const figures: Record<string, Figures> = {};
  for (const [k, r] of Object.entries(sluice))
    figures[`sluice ${k}`] = sluiceFigures(r, k === 'b2' ? params.b2Bytes : params.subsetBytes);
  figures['langchain a'] = baselineFigures(input.baselineA);
  figures['langchain b'] = baselineFigures(input.baselineB, extras.baselineBRequests as number);
  const f = (k: string) => figures[k]!;
  const copy = extras.copy as CopyLimitResult;
  const a1 = sluice.a1!;
  const load = a1.phases[0]!.stages.find((s) => s.stage === 'load');
  const loadBusyRowsPerSec = load ? a1.docs.chunks / load.busySeconds : Number.NaN;
  const loadRowsPerSec = copy.loadReplay.rowsPerSec;
  const b2 = sluice.b2!;
  const [first, unchanged, edited] = [b2.phases[0]!, b2.phases[1]!, b2.phases[2]!];
  const pdf = extras.pdftotext as { docs: number; seconds: number } | undefined;
  const spdf = extras.sluicePdfExtract as { docs: number; seconds: number };
  const ratios: Record<string, number> = {
    'a: sluice 1w / langchain docs/s': ratio(f('sluice a1').docsPerSec, f('langchain a').docsPerSec),
    'a: sluice 2w / langchain docs/s': ratio(f('sluice a2').docsPerSec, f('langchain a').docsPerSec),
    'b: sluice 1w / langchain docs/s': ratio(f('sluice b1').docsPerSec, f('langchain b').docsPerSec),
    'b: sluice 2w / langchain docs/s': ratio(f('sluice b2').docsPerSec, f('langchain b').docsPerSec),
    'a: 2w / 1w docs/s': ratio(f('sluice a2').docsPerSec, f('sluice a1').docsPerSec),
    'b: 2w / 1w docs/s': ratio(f('sluice b2').docsPerSec, f('sluice b1').docsPerSec),
    'load stage rows/s (in pipeline, chunks / Σ busy)': loadBusyRowsPerSec,
    'load stage rows/s (replayed alone)': loadRowsPerSec,
    'raw COPY bulk rows/s': copy.bulk.rowsPerSec,
    'raw COPY per-document rows/s': copy.perDocument.rowsPerSec,
    'raw COPY bulk, no index rows/s': copy.noIndex.rowsPerSec,
    'raw COPY bulk, no index, then HNSW build rows/s': copy.indexAfter?.rowsPerSec ?? Number.NaN,
    'load / raw COPY bulk': ratio(loadRowsPerSec, copy.bulk.rowsPerSec),
    'load / raw COPY per-document': ratio(loadRowsPerSec, copy.perDocument.rowsPerSec),
    'unchanged re-ingest: first / re-ingest time': ratio(first.seconds, unchanged.seconds),
    'unchanged re-ingest: embed requests': unchanged.embedRequests?.requests ?? Number.NaN,
    'edited re-ingest: embed requests / first': ratio(
      edited.embedRequests?.requests ?? 0,
      first.embedRequests?.requests ?? 0,
    ),
    'edited re-ingest: embedded texts / first': ratio(
      edited.embedRequests?.inputs ?? 0,
      first.embedRequests?.inputs ?? 0,
    ),
    'edited re-ingest: first / re-ingest time': ratio(first.seconds, edited.seconds),
    'pdf: sluice extract docs/s (Σ busy)': spdf.docs / spdf.seconds,
    'pdf: pdftotext docs/s': pdf ? pdf.docs / pdf.seconds : Number.NaN,
    'pdf: sluice extract / pdftotext': pdf
      ? ratio(spdf.docs / spdf.seconds, pdf.docs / pdf.seconds)
      : Number.NaN,
  };
  const maxRss = Math.max(...Object.values(sluice).map((r) => sluiceFigures(r, 1).peakRssMb));
  const t = (name: string, target: string, measured: number, met: boolean): Target => ({
    name,
    target,
    measured,
    met,
  });
  const targets = [
    t(
      'b: sluice 2w / langchain docs/s',
      '≥ 10',
      ratios['b: sluice 2w / langchain docs/s']!,
      ratios['b: sluice 2w / langchain docs/s']! >= 10,
    ),
    t(
      'b: sluice 1w / langchain docs/s',
      '≥ 10',
      ratios['b: sluice 1w / langchain docs/s']!,
      ratios['b: sluice 1w / langchain docs/s']! >= 10,
    ),
    t(
      'a: sluice 2w / langchain docs/s',
      '≥ 2',
      ratios['a: sluice 2w / langchain docs/s']!,
      ratios['a: sluice 2w / langchain docs/s']! >= 2,
    ),
    t(
      'a: sluice 1w / langchain docs/s',
      '≥ 2',
      ratios['a: sluice 1w / langchain docs/s']!,
      ratios['a: sluice 1w / langchain docs/s']! >= 2,
    ),
    t(
      'load / raw COPY bulk',
      '≥ 0.8',
      ratios['load / raw COPY bulk']!,
      ratios['load / raw COPY bulk']! >= 0.8,
    ),
    t(
      'unchanged: embed requests',
      '= 0',
      ratios['unchanged re-ingest: embed requests']!,
      ratios['unchanged re-ingest: embed requests'] === 0,
    ),
    t(
      'unchanged: speed-up vs first',
      '≥ 50',
      ratios['unchanged re-ingest: first / re-ingest time']!,
      ratios['unchanged re-ingest: first / re-ingest time']! >= 50,
    ),
    t(
      'edited: embed requests / first',
      '≤ 0.06',
      ratios['edited re-ingest: embed requests / first']!,
      ratios['edited re-ingest: embed requests / first']! <= 0.06,
    ),
    t('peak RSS per worker (MB)', '≤ 300', maxRss, maxRss <= 300),
  ];
  // The deployment modes (modes.ts), when measured: their own ratios and targets.
  const modes = extras.modes as ModesResult | undefined;
  if (modes) {
    Object.assign(ratios, modes.ratios);
    targets.push(...modes.targets);
  }
  return { ...input, figures, ratios, targets };
}

export function printReport(r: Report): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const p = { count: Number(r.params.count), corpusBytes: r.params.corpusBytes };
  out(
    `\nsluice bench — ${r.meta.date}, commit ${r.meta.commit.slice(0, 10)}${r.meta.dirty ? ' (dirty)' : ''}, node ${r.meta.node}, ${r.meta.nproc} cpu, ${r.meta.memoryGb.toFixed(1)} GB`,
  );
  out(
    `corpus: ${p.count} documents, ${(p.corpusBytes / 1e6).toFixed(1)} MB; aN/bN = condition, N worker processes; ` +
      `b2 on every ${String(r.params.b2Every)}th document, a1/a2/b1/langchain a on every ${String(r.params.subsetEvery)}th, ` +
      `langchain b on every ${String(r.params.baselineBEvery)}th\n`,
  );
  const rows: Cell[][] = Object.entries(r.figures).map(([k, f]) => [
    k,
    f.docs,
    f.seconds,
    f.docsPerSec,
    f.mbPerSec,
    f.chunksPerSec,
    f.p50Seconds,
    f.p95Seconds,
    f.peakRssMb,
    f.embedRequests,
  ]);
  out(
    table(
      ['run', 'docs', 'seconds', 'docs/s', 'MB/s', 'chunks/s', 'p50 s', 'p95 s', 'peak RSS MB', 'embed reqs'],
      rows,
      2,
    ),
  );
  out(
    '\nper stage (first run): busy s = Σ stage durations over all workers; wait = mean queue wait before the stage',
  );
  const stageRows: Cell[][] = [];
  for (const [k, s] of Object.entries(r.sluice))
    for (const st of s.phases[0]!.stages)
      stageRows.push([`${k} ${st.stage}`, st.runs, st.busySeconds, st.p50Ms, st.p95Ms, st.meanQueueWaitMs]);
  out(table(['scenario stage', 'runs', 'busy s', 'p50 ms', 'p95 ms', 'wait ms'], stageRows, 1));
  out('\nCPU seconds during the first run (cores busy = CPU s / wall s)');
  out(
    table(
      [
        'scenario',
        'wall s',
        'workers',
        'postgres',
        'redis',
        'ingest cli',
        'bench',
        'cores busy',
        'redis cmds/doc',
        'pg commits/doc',
      ],
      Object.entries(r.sluice).map(([k, s]) => {
        const ph = s.phases[0]!;
        const c = ph.cpuSeconds;
        const bench = c.benchProcess ?? 0;
        const total = c.workers + c.postgres + c.redis + c.ingestCli + bench;
        const n = Math.max(1, s.docs.done);
        return [
          k,
          ph.seconds,
          c.workers,
          c.postgres,
          c.redis,
          c.ingestCli,
          bench,
          total / ph.seconds,
          ph.redisCommands / n,
          ph.writes.commits / n,
        ];
      }),
      1,
    ),
  );
  out('\nre-ingest (b, 2 workers)');
  const b2 = r.sluice.b2!;
  out(
    table(
      ['phase', 'seconds', 'embed reqs', 'texts embedded', 'redis cmds', 'pg commits'],
      b2.phases.map((ph) => [
        ph.label,
        ph.seconds,
        ph.embedRequests?.requests,
        ph.embedRequests?.inputs,
        ph.redisCommands,
        ph.writes.commits,
      ]),
      2,
    ),
  );
  const modes = r.extras.modes as ModesResult | undefined;
  if (modes) {
    out(
      `\ndeployment modes: \`sluice run\` on the quick corpus (${modes.corpus.documents} documents), one process each`,
    );
    out(printModes(modes));
  }
  out('\nratios');
  out(
    table(
      ['ratio', 'value'],
      Object.entries(r.ratios).map(([k, v]) => [k, v]),
      2,
    ),
  );
  out('\ntargets');
  out(
    table(
      ['target', 'wanted', 'measured', 'met'],
      r.targets.map((t) => [t.name, t.target, t.measured, t.met ? 'yes' : 'NO']),
      2,
    ),
  );
}
