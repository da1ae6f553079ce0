// Job payloads: ids and hashes, never file contents. Parsed with zod when a
// worker receives them (Redis content is untrusted input too) and versioned.
import { z } from 'zod';
import { SluiceError } from '../errors.ts';

export const STAGES = ['extract', 'chunk', 'embed', 'load'] as const;
export type StageName = (typeof STAGES)[number];

export const jobPayloadSchema = z.object({
  v: z.literal(1),
  documentId: z.number().int().positive(),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  collection: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/),
  uri: z.string().min(1).max(4096),
  /** Re-process even when stage outputs exist (`ingest --force`). */
  force: z.boolean().optional(),
  /** Index text the quality gate judges garbage (`--accept-low-quality`). */
  acceptLowQuality: z.boolean().optional(),
  /**
   * The collection generation this job builds (a re-index, or keeping a generation
   * beside the active one current). Absent: live ingestion into the active generation.
   */
  generation: z.number().int().positive().optional(),
  /** When the document version entered the pipeline (ms since epoch); set at extract, carried on, for freshness. */
  enqueuedAt: z.number().int().nonnegative().optional(),
});

export type JobPayload = z.infer<typeof jobPayloadSchema>;

/** Validates a payload from Redis; a malformed job fails alone with INVALID_JOB. */
export function parsePayload(data: unknown): JobPayload {
  const parsed = jobPayloadSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new SluiceError('INVALID_JOB', `malformed job payload: ${problems}`);
  }
  return parsed.data;
}

/** The payload that (re)starts a stored document version's pipeline. */
export function payloadFor(
  doc: { id: number | string; content_hash: string; collection: string; uri: string },
  force = false,
): JobPayload {
  const p: JobPayload = {
    v: 1,
    documentId: Number(doc.id),
    contentHash: doc.content_hash,
    collection: doc.collection,
    uri: doc.uri,
  };
  if (force) p.force = true;
  return p;
}

/**
 * Deterministic job id: stage + document + content hash, so one document
 * version is never in a stage twice at once and re-enqueueing is harmless.
 * (BullMQ forbids ':' in custom ids.)
 */
export function jobId(
  stage: StageName,
  p: Pick<JobPayload, 'documentId' | 'contentHash'> & { generation?: number | undefined },
): string {
  const base = `${stage}-${p.documentId}-${p.contentHash}`;
  return p.generation === undefined ? base : `${base}-g${p.generation}`;
}

export function nextStage(stage: StageName): StageName | undefined {
  return STAGES[STAGES.indexOf(stage) + 1];
}

export function parseStages(list: string): StageName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(STAGES as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `unknown stage(s) "${bad.join(',') || list}"; choose from ${STAGES.join(',')}`,
    );
  }
  return [...new Set(names)] as StageName[];
}
