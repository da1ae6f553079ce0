// The document state table: every status a change names is a known status, and
// the guards the loaders use come from it.
import { describe, expect, it } from 'vitest';
import {
  canChange,
  DOCUMENT_STATUSES,
  fromStatuses,
  RETRYABLE,
  SERVED,
  TRANSITIONS,
} from '../../../src/loaders/document-state.ts';

describe('document state', () => {
  it('names only known statuses', () => {
    const known = new Set<string>(DOCUMENT_STATUSES);
    for (const [change, t] of Object.entries(TRANSITIONS)) {
      for (const s of [...t.from, ...t.to]) expect(known.has(s), `${change}: ${s}`).toBe(true);
    }
    for (const s of [...SERVED, ...RETRYABLE]) expect(known.has(s), s).toBe(true);
  });

  it('never serves a failed, skipped or deleted document', () => {
    for (const s of ['failed', 'skipped', 'deleted']) expect(SERVED as readonly string[]).not.toContain(s);
  });

  it('retries failed and stale documents only; a deleted one stays deleted', () => {
    expect(fromStatuses('retry').sort()).toEqual(['failed', 'stale']);
    expect(canChange('retry', 'deleted')).toBe(false);
    expect(canChange('retry', 'done')).toBe(false);
  });

  it('loads, fails and starts only a version in flight', () => {
    for (const change of ['load', 'fail', 'start'] as const) {
      expect(fromStatuses(change).sort()).toEqual(['processing', 'queued']);
    }
    expect(canChange('load', 'deleted')).toBe(false);
    expect(canChange('load', 'stale')).toBe(false);
  });

  it('lets anything but a deleted document be deleted, and anything be ingested again', () => {
    expect(fromStatuses('delete')).not.toContain('deleted');
    expect(fromStatuses('ingest').sort()).toEqual([...DOCUMENT_STATUSES].sort());
  });
});
