// Stage-run observers: the worker wrapper reports each stage run here, and
// whoever is listening (Prometheus metrics, OpenTelemetry spans) records it.
// With no listener this is a no-op, so workers without metrics or tracing pay
// nothing but one array-length check per job.
import type { StageName } from './jobs.ts';

/** How a stage run ended, as metrics and spans label it. */
export type StageRunOutcome = 'done' | 'skipped' | 'superseded' | 'failed' | 'retry' | 'deferred';

export interface StageRunInfo {
  stage: StageName;
  /** Undefined when the payload was malformed. */
  documentId: number | undefined;
  attempt: number;
}

export interface StageRunEnd {
  outcome: StageRunOutcome;
  errorCode?: string;
  /** Enqueue → searchable, set when a load stage finished a document. */
  freshnessMs?: number;
}

/** A listener: called when a run starts, returns the function called when it ends. */
export type StageRunSink = (run: StageRunInfo) => (end: StageRunEnd) => void;

const sinks = new Set<StageRunSink>();
const NOOP = (): void => undefined;

/** Adds a listener; returns the function that removes it. */
export function addStageRunSink(sink: StageRunSink): () => void {
  sinks.add(sink);
  return () => sinks.delete(sink);
}

/** Called by the worker wrapper when a stage run starts; call the result once when it ends. */
export function observeStageRun(run: StageRunInfo): (end: StageRunEnd) => void {
  if (sinks.size === 0) return NOOP;
  const ends = [...sinks].map((sink) => sink(run));
  let ended = false;
  return (end) => {
    if (ended) return;
    ended = true;
    for (const e of ends) e(end);
  };
}
