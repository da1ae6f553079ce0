// The four stage handlers, by name. Each stores its output (checkpoint) before
// returning; the worker wrapper then enqueues the next stage.
import type { JobPayload, StageName } from '../jobs.ts';
import type { Runtime } from '../runtime.ts';
import { runChunk } from './chunk.ts';
import { runEmbed } from './embed.ts';
import { runExtract } from './extract.ts';
import { runLoad } from './load.ts';

/** done: work was done; skipped: output already existed; superseded: a newer version (or deletion) won. */
export type StageOutcome = 'done' | 'skipped' | 'superseded';

export interface StageContext {
  signal: AbortSignal;
  attempt: number;
}

export type StageHandler = (rt: Runtime, p: JobPayload, ctx: StageContext) => Promise<StageOutcome>;

export const STAGE_HANDLERS: Record<StageName, StageHandler> = {
  extract: runExtract,
  chunk: runChunk,
  embed: runEmbed,
  load: runLoad,
};
