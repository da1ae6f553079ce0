// The one worker wrapper: the only place that knows BullMQ options (attempts,
// backoff, retention, locks, stalls, rate limits, shutdown). It validates the
// payload, guards the document version, times the stage, maps sluice error codes
// to BullMQ behaviour, and enqueues the next stage once this one's output is stored.

import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import {
  errorCodeOf,
  isConnectionError,
  isRedisFull,
  isRetryable,
  messageOf,
  SluiceError,
} from '../errors.ts';
import { recordStageRun } from '../loaders/checkpoints.ts';
import { escapeControls } from '../terminal-text.ts';
import { type JobPayload, nextStage, parsePayload, type StageName } from './jobs.ts';
import { progressOf } from './progress.ts';
import { enqueue } from './queues.ts';
import { retryPolicy } from './retry-policy.ts';
import type { Runtime } from './runtime.ts';
import { STAGE_HANDLERS, type StageOutcome } from './stages/index.ts';
import { observeStageRun } from './telemetry.ts';

export interface StageWorkerOptions {
  concurrency: number;
}

/** How often a document held by a spent embedding budget looks again. */
export const BUDGET_RECHECK_MS = 3000;

export function createStageWorker(
  rt: Runtime,
  stage: StageName,
  opts: StageWorkerOptions,
): Worker<JobPayload> {
  const { config, log } = rt;
  const retry = retryPolicy(config);
  let configErrorLogged = false;
  let budgetLogged = false;
  let outageLogged = false;
  let fullLogged = false;

  const processor = async (
    job: Job<JobPayload>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<StageOutcome> => {
    let payload: JobPayload | undefined;
    const started = performance.now();
    const record = (p: JobPayload, outcome: 'done' | 'skipped' | 'failed', detail?: object) =>
      recordStageRun(rt.pool, {
        documentId: p.documentId,
        hash: p.contentHash,
        stage,
        outcome,
        ms: performance.now() - started,
        generation: p.generation,
        ...(detail ? { detail } : {}),
      });
    const attempt = job.attemptsMade + 1;
    const data = job.data as Partial<JobPayload> | undefined;
    const observed = observeStageRun({
      stage,
      documentId: typeof data?.documentId === 'number' ? data.documentId : undefined,
      attempt,
    });
    try {
      payload = parsePayload(job.data);
      const p = payload;
      const progress = progressOf(rt, p);
      if (!(await progress.start(stage, attempt))) {
        // Done already (a re-delivery after the load committed), or superseded by a
        // newer version, deleted, or failed. Record the former as a checkpoint skip.
        if (await progress.alreadyDone()) await record(p, 'skipped');
        observed({ outcome: 'superseded' });
        return 'superseded';
      }
      await faultPause(config.faultInjection, stage, 'before');
      const outcome = await STAGE_HANDLERS[stage](rt, p, {
        signal: signal ?? new AbortController().signal,
        attempt,
      });
      await faultPause(config.faultInjection, stage, 'after');
      // Enqueue → searchable: the extract job's timestamp is when this version entered the pipeline.
      const enqueuedAt = p.enqueuedAt ?? (stage === 'extract' ? job.timestamp : undefined);
      const freshnessMs =
        stage === 'load' && outcome === 'done' && enqueuedAt ? Date.now() - enqueuedAt : undefined;
      await record(
        p,
        outcome === 'skipped' ? 'skipped' : 'done',
        freshnessMs === undefined ? undefined : { freshness_ms: freshnessMs },
      );
      const next = nextStage(stage);
      if (next && outcome !== 'superseded') {
        await enqueue(rt.queues, next, enqueuedAt === undefined ? p : { ...p, enqueuedAt });
      }
      configErrorLogged = false;
      if (outageLogged || fullLogged) log.info(`${stage} stage resumed`);
      outageLogged = false;
      fullLogged = false;
      if (stage === 'embed') budgetLogged = false;
      observed({ outcome, ...(freshnessMs === undefined ? {} : { freshnessMs }) });
      return outcome;
    } catch (err) {
      const code = errorCodeOf(err);
      const message = messageOf(err);
      if (code === 'BUDGET_EXCEEDED' && payload && token) {
        // This document waits, not the worker: other collections and generations go on.
        // It looks again every budgetRecheckMs, so a raised budget resumes it.
        await progressOf(rt, payload)
          .wait(code, message)
          .catch(() => undefined);
        // Once per pause, not once per document per recheck.
        if (!budgetLogged) log.warn(`embedding paused: ${message}`);
        budgetLogged = true;
        observed({ outcome: 'deferred', errorCode: code });
        await job.moveToDelayed(Date.now() + BUDGET_RECHECK_MS, token);
        throw new DelayedError();
      }
      if (isRedisFull(err)) {
        // Redis is full (maxmemory, noeviction): back-pressure, not the document's
        // failure. The job waits without using an attempt and the stage holds until
        // writes are accepted again.
        if (!fullLogged)
          log.warn(
            `${stage} stage paused: Redis is out of memory (maxmemory reached, noeviction). Jobs wait; free memory or raise maxmemory and they resume.`,
          );
        fullLogged = true;
        observed({ outcome: 'deferred', errorCode: 'QUEUE_FULL' });
        return holdStage(retry.delayMs(1));
      }
      if (isRetryable(err) && isConnectionError(err)) {
        // An outage (Postgres down or restarting, a lost connection) is not the
        // document's failure: the job goes back to wait without using an attempt and
        // the stage holds, trying again every backoff until the server answers.
        if (!outageLogged) log.warn(`${stage} stage paused, a server is unreachable: ${message}`);
        outageLogged = true;
        observed({ outcome: 'deferred', errorCode: 'CONNECTION_ERROR' });
        return holdStage(retry.delayMs(1));
      }
      if (code === 'RATE_LIMITED' || (code === 'CONFIG_ERROR' && stage === 'embed')) {
        // Deferred, not failed: the job goes back to wait without using an attempt.
        // A provider configuration error (bad key, unknown model) holds the whole
        // embed stage until it is fixed, instead of failing every document in turn.
        const waitMs = code === 'RATE_LIMITED' ? retry.delayMs(1, err) : 30_000;
        if (code === 'CONFIG_ERROR' && !configErrorLogged) {
          log.error(
            `embed stage paused: ${message.replace(/\.+$/, '')}. Documents wait in the embed queue; fix the setting and restart workers.`,
          );
          configErrorLogged = true;
        }
        if (payload && code === 'CONFIG_ERROR') {
          await progressOf(rt, payload)
            .wait(code, message)
            .catch(() => undefined);
        }
        observed({ outcome: 'deferred', errorCode: code });
        return holdStage(waitMs);
      }
      // The job's own attempts decide, not today's setting: it may have been queued
      // by a producer configured otherwise, and BullMQ retries it that often.
      const final = !isRetryable(err) || attempt >= (job.opts.attempts ?? config.attempts);
      if (payload && final) {
        await progressOf(rt, payload)
          .fail({ code, message, stage, attempts: attempt })
          .catch((e) =>
            log.error(`could not record failure of document ${payload?.documentId}: ${messageOf(e)}`),
          );
        await record(payload, 'failed', { code }).catch(() => undefined);
      }
      // Name the file too: an id alone means nothing to whoever reads the log.
      const which = payload ? `${payload.documentId} (${escapeControls(payload.uri)})` : '?';
      observed({ outcome: final ? 'failed' : 'retry', errorCode: code });
      log.warn(
        `${stage} failed for document ${which}${final ? '' : ` (attempt ${attempt}, will retry)`}: ${code}: ${message}`,
      );
      if (!isRetryable(err)) throw new UnrecoverableError(`${code}: ${message}`);
      throw new SluiceError(code, `${code}: ${message}`, { retryable: true, ...retryAfterOf(err) });
    }
  };

  /**
   * Holds this stage for waitMs and puts the job back to wait without using an
   * attempt. Whole milliseconds: Redis refuses a fractional expiry (the job would
   * fail instead). When Redis refuses even that write (it is full), this job's slot
   * waits instead, which holds the stage as every slot fills.
   */
  async function holdStage(waitMs: number): Promise<never> {
    const ms = Math.ceil(waitMs);
    await worker.rateLimit(ms).catch(() => sleep(ms));
    throw Worker.RateLimitError();
  }

  const worker: Worker<JobPayload> = rt.queue.worker(stage, processor, {
    concurrency: opts.concurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: 5,
    settings: {
      backoffStrategy: (attemptsMade, _type, err) => retry.delayMs(attemptsMade, err),
    },
    autorun: true,
  });

  // Jobs that fail outside the processor (stalled past BullMQ's limit, lost
  // locks) are not failures of their document: the reconciler (reconcile.ts)
  // finds the document without a live job and puts it back, with a cap.
  worker.on('failed', (job, err) => {
    if (job && /stalled|lock/i.test(err?.message ?? '')) log.warn(`${stage} job ${job.id}: ${err.message}`);
  });
  worker.on('error', (err) => log.warn(`${stage} worker: ${messageOf(err)}`));
  return worker;
}

/** Test hook (SLUICE_FAULT_INJECTION): holds a stage open so a test can kill the worker inside it. */
async function faultPause(
  spec: string | undefined,
  stage: StageName,
  when: 'before' | 'after',
): Promise<void> {
  if (!spec) return;
  const [s, w, ms] = spec.split(':');
  if (s === stage && w === when) await new Promise((r) => setTimeout(r, Number(ms)));
}

function retryAfterOf(err: unknown): { retryAfterSec?: number } {
  const s = (err as SluiceError)?.retryAfterSec;
  return typeof s === 'number' ? { retryAfterSec: s } : {};
}
