// Waiting and reporting shared by `ingest --wait` and `run`: progress while
// documents move, then a summary of THIS run (what it queued or refused and what
// became of it) with every failure and its reason code. Failures from earlier runs
// that this run left alone are one line pointing to `status`/`retry`, not exit 1.
import {
  configErrorOf,
  countFailed,
  ingestOutcome,
  stageCounts,
  statusCounts,
} from '../loaders/documents.ts';
import { buildMissingIndexes } from '../loaders/pgvector.ts';
import { type IngestSummary, type WaitProgress, waitForDocuments } from '../queue/producer.ts';
import type { Runtime } from '../queue/runtime.ts';
import { escapeControls } from '../terminal-text.ts';
import { type CliIO, EXIT, type GlobalOpts, writeJson } from './io.ts';
import { createProgress } from './progress.ts';

export type Waited = WaitProgress & { timedOut: boolean; interrupted: boolean; seconds: number };

const STAGE_ORDER = ['extract', 'chunk', 'embed', 'load'];

/** "extract 3 · embed 12": documents in flight per stage. */
function stageLine(counts: Record<string, number>): string {
  return STAGE_ORDER.filter((s) => counts[s])
    .map((s) => `${s} ${counts[s]}`)
    .join(' · ');
}

export async function waitWithProgress(
  rt: Runtime,
  io: CliIO,
  ids: number[],
  timeoutSeconds?: number,
  /** Aborted by Ctrl-C under `run`: stop waiting, report what is finished. */
  signal?: AbortSignal,
): Promise<Waited> {
  const started = Date.now();
  const progress = createProgress(io, 'ingesting');
  let warned = false;
  let stages: Record<string, number> = {};
  let fetching = false;
  let configShown = false;
  const timeoutMs = timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000;
  const result = await waitForDocuments(rt, ids, {
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(signal ? { signal } : {}),
    onTick: (p) => {
      if (!fetching) {
        fetching = true;
        void Promise.all([stageCounts(rt.pool, ids), configShown ? undefined : configErrorOf(rt.pool, ids)])
          .then(([s, configError]) => {
            stages = s;
            // A wrong embedder setting pauses the embed stage: say so now, not after the timeout.
            if (configError && !configShown) {
              configShown = true;
              io.stderr(
                `embedding is paused by a configuration error: ${escapeControls(configError)}. The documents wait; ` +
                  'fix the setting and restart the workers (Ctrl-C stops waiting)\n',
              );
            }
          })
          .catch(() => undefined)
          .finally(() => (fetching = false));
      }
      // Stage counts arrive a tick late: once nothing is pending they would only mislead.
      const inFlight = p.pending > 0 ? stageLine(stages) : '';
      const extra = [inFlight, p.failed ? `${p.failed} failed` : ''].filter(Boolean).join(' · ');
      progress.update(p.done + p.failed, p.total, extra);
      if (!warned && p.pending > 0 && Date.now() - started > 3000) {
        warned = true;
        // Redis may be down for a while (the workers reconnect): this hint is best effort.
        void rt.queues.extract
          .getWorkersCount()
          .then((n) => {
            if (n === 0) io.stderr('\nno workers are running: start `sluice worker` (or use `sluice run`)\n');
          })
          .catch(() => undefined);
      }
    },
  });
  progress.finish();
  // Build the index now if the collection is idle; if another transaction holds it up,
  // the workers' maintenance tick builds it later.
  if (!result.timedOut && !result.interrupted)
    await buildMissingIndexes(rt.sessionPool, { lockTimeoutMs: 5000 }).catch(() => undefined);
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

/** Documents per second over the wait, or null when nothing finished or no time passed. */
function docsPerSecond(finished: number, seconds: number | undefined): number | null {
  return seconds && seconds > 0 && finished > 0 ? Math.round((finished / seconds) * 100) / 100 : null;
}

/**
 * Prints the summary (JSON or text) and returns the exit code: 1 when a document
 * of this run failed, 2 when the wait timed out or was interrupted (not finished).
 * `extraJson` adds fields to the JSON document (`run` adds its modes).
 */
export async function reportIngest(
  rt: Runtime,
  io: CliIO,
  summary: IngestSummary,
  waited: Waited | undefined,
  g: GlobalOpts,
  extraJson: Record<string, unknown> = {},
): Promise<number> {
  const refused = summary.refusedIds ?? [];
  const thisRun = [...summary.waitIds, ...refused];
  const { done, chunks, failures } = await ingestOutcome(rt.pool, thisRun);
  const ran = new Set(thisRun);
  const earlierFailed = await countFailed(
    rt.pool,
    summary.ids.filter((id) => !ran.has(id)),
  );
  const timedOut = waited?.timedOut === true;
  const interrupted = waited?.interrupted === true;
  // Jobs in hand finished after the wait stopped: count what is still unfinished now.
  const pending = interrupted ? await pendingOf(rt, summary.waitIds) : (waited?.pending ?? null);
  const rate = docsPerSecond(done + failures.length, waited?.seconds);
  if (g.json) {
    writeJson(io, {
      files: summary.files,
      queued: summary.queued,
      unchanged: summary.unchanged,
      inFlight: summary.inFlight,
      refused: summary.refused,
      done,
      failed: failures.length,
      chunks,
      pending,
      seconds: waited?.seconds ?? null,
      docsPerSecond: rate,
      timedOut,
      interrupted,
      failures,
      earlierFailed,
      ...extraJson,
    });
  } else {
    if (waited) {
      io.stderr(
        `this run: ${done} done, ${chunks} chunk(s); failed: ${failures.length}` +
          `${timedOut || interrupted ? `; still in progress: ${pending}` : ''}; ` +
          `unchanged (skipped): ${summary.unchanged}; ${waited.seconds.toFixed(1)} s` +
          `${rate === null ? '' : ` (${rate.toFixed(1)} docs/s)`}\n`,
      );
    }
    for (const f of failures)
      io.stderr(`  failed ${escapeControls(f.uri)}: ${f.code}: ${escapeControls(f.message ?? '')}\n`);
    if (earlierFailed > 0) {
      io.stderr(
        `${earlierFailed} unchanged document(s) failed in an earlier run: see \`sluice status\`, ` +
          'or re-queue them with `sluice retry --failed`\n',
      );
    }
    if (timedOut) io.stderr(`timed out with ${waited?.pending} document(s) still in progress\n`);
  }
  // What to do next, with --json too (on stderr, as progress is).
  if (interrupted)
    io.stderr(
      `interrupted with ${pending} document(s) not finished (their jobs stay queued): ` +
        'run the same command again to resume; completed stages are not redone\n',
    );
  if (timedOut || interrupted) return EXIT.usage;
  return failures.length > 0 ? EXIT.someFailed : EXIT.ok;
}

/** Documents of ids still queued or processing. */
async function pendingOf(rt: Runtime, ids: number[]): Promise<number> {
  const c = await statusCounts(rt.pool, ids);
  return c.queued + c.processing;
}
