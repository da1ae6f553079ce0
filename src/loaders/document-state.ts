// Every document status and every allowed status change, in one place. The
// functions that change a document's status (documents.ts, the load in
// pgvector.ts) take their guards from here, and search takes from here which
// statuses are served, so the rules cannot drift apart.

/** Statuses of `sluice.documents.status` (the CHECK constraint in migrations/ lists the same). */
export const DOCUMENT_STATUSES = [
  'queued', // a version waits for extraction
  'processing', // a version is in a stage
  'done', // the current version is indexed
  'stale', // a newer version failed; the last good version stays indexed and served (error_* say why)
  'skipped', // kept for old rows; no current code path sets it
  'failed', // the version failed and nothing of the document is indexed
  'deleted', // removed (source gone or `sluice delete`); no chunks
] as const;

export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** A version still on its way through the stages. */
export const IN_FLIGHT = ['queued', 'processing'] as const satisfies readonly DocumentStatus[];

/** Failed in some way and re-queued by `sluice retry` (a stale one retries its failed newer version). */
export const RETRYABLE = ['failed', 'stale'] as const satisfies readonly DocumentStatus[];

/**
 * Statuses whose indexed version (`indexed_hash`) search returns: done; stale (the
 * last good version, while status says a newer one failed); and a new version in
 * flight, whose load swaps the old chunks for the new in one transaction (readers
 * see the old set or the new one, never nothing). Never failed, skipped or deleted.
 */
export const SERVED = ['done', 'stale', 'queued', 'processing'] as const satisfies readonly DocumentStatus[];

const ALL = DOCUMENT_STATUSES;

/**
 * The status changes sluice makes, each with the statuses it may start from and
 * those it may end in. A change applied to a row in another status changes nothing.
 */
export const TRANSITIONS = {
  /** A new or changed version seen at its source, `--force`, or a deleted document ingested again. */
  ingest: { from: ALL, to: ['queued'] },
  /** A file refused before reading (too large): stale if an older version is indexed, else failed. */
  refuse: { from: ALL, to: ['failed', 'stale'] },
  /** A stage starts on the version. */
  start: { from: IN_FLIGHT, to: ['processing'] },
  /** The load stage committed the version's chunks. */
  load: { from: IN_FLIGHT, to: ['done'] },
  /** The version failed for good: stale if an older version is indexed, else failed. */
  fail: { from: IN_FLIGHT, to: ['failed', 'stale'] },
  /** `sluice retry` / the dashboard's Retry: the failed version starts again. */
  retry: { from: RETRYABLE, to: ['queued'] },
  /**
   * A switch (or rollback) to a generation that does not hold a stale document's
   * last good version: nothing of it is served any more, so it is failed.
   */
  unserve: { from: ['stale'], to: ['failed'] },
  /** `sluice delete`, a source deletion: chunks go in the same transaction. */
  delete: { from: ['queued', 'processing', 'done', 'stale', 'skipped', 'failed'], to: ['deleted'] },
} as const satisfies Record<string, { from: readonly DocumentStatus[]; to: readonly DocumentStatus[] }>;

export type Transition = keyof typeof TRANSITIONS;

/** Statuses a change may start from, for SQL guards (`status = ANY($n::text[])`). */
export function fromStatuses(change: Transition): DocumentStatus[] {
  return [...TRANSITIONS[change].from];
}

/** Whether a document in `status` may undergo `change`. */
export function canChange(change: Transition, status: string): boolean {
  return (TRANSITIONS[change].from as readonly string[]).includes(status);
}

/**
 * SQL for the status a failed version leaves its document in, evaluated on the
 * row (`table` qualifies the column where it would be ambiguous): `stale` while an
 * older version is indexed (it keeps serving), else `failed`.
 */
export function failedStatusSql(table = 'sluice.documents'): string {
  return `(CASE WHEN ${table}.indexed_hash IS NOT NULL THEN 'stale' ELSE 'failed' END)`;
}
