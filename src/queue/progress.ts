// Where a job's document progress is recorded: live jobs on sluice.documents,
// jobs that build a generation (payload.generation) on that generation's ledger
// (sluice.generation_documents), so a re-index never disturbs what live
// ingestion reports. Both guard on the document version the job is for.

import { getDocument, markFailed, markStage, markWaiting, type Stage } from '../loaders/documents.ts';
import {
  dropStaleGenerationDoc,
  failGenerationDoc,
  generationDocDone,
  startGenerationStage,
  waitGenerationDoc,
} from '../loaders/generation-docs.ts';
import type { JobPayload } from './jobs.ts';
import type { Runtime } from './runtime.ts';

export interface DocProgress {
  /** Marks the document as in this stage; false if the job's version is no longer wanted. */
  start(stage: Stage, attempt: number): Promise<boolean>;
  /** Whether this version is already loaded (a re-delivery after the load committed). */
  alreadyDone(): Promise<boolean>;
  fail(failure: { code: string; message: string; stage: Stage; attempts: number }): Promise<void>;
  /** Notes why the document waits (configuration error, budget); it stays in flight. */
  wait(code: string, message: string): Promise<void>;
}

export function progressOf(rt: Runtime, p: JobPayload): DocProgress {
  const { pool } = rt;
  if (p.generation !== undefined) {
    const ref = {
      collection: p.collection,
      generation: p.generation,
      documentId: p.documentId,
      contentHash: p.contentHash,
    };
    return {
      async start(stage, attempt) {
        if (await startGenerationStage(pool, ref, stage, attempt)) return true;
        await dropStaleGenerationDoc(pool, ref);
        return false;
      },
      alreadyDone: () => generationDocDone(pool, ref),
      fail: (failure) => failGenerationDoc(pool, ref, failure),
      wait: (code, message) => waitGenerationDoc(pool, ref, code, message),
    };
  }
  return {
    start: (stage, attempt) => markStage(pool, p.documentId, p.contentHash, stage, attempt),
    async alreadyDone() {
      const doc = await getDocument(pool, p.documentId);
      return doc?.status === 'done' && doc.indexed_hash === p.contentHash;
    },
    fail: (failure) => markFailed(pool, p.documentId, p.contentHash, failure),
    async wait(code, message) {
      await markWaiting(pool, p.documentId, p.contentHash, code, message);
    },
  };
}
