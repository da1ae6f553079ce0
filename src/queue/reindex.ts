// Starting (or resuming) a re-index: generation N+1 of a collection, built
// beside the active one with new settings. Every document goes through the
// stages again as low-priority jobs pinned to the new generation; checkpoints
// and the embedding cache make it redo only what the new settings change.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { SluiceError } from '../errors.ts';
import { activeDocuments } from '../loaders/documents.ts';
import { requeueFailedGenerationDocs } from '../loaders/generation-docs.ts';
import {
  createGeneration,
  type GenerationInfo,
  type GenerationSummary,
  getGeneration,
  listGenerations,
  markReadyIfComplete,
  updateGeneration,
} from '../loaders/generations.ts';
import { type Estimate, estimate } from './estimate.ts';
import { switchTo } from './generations.ts';
import type { JobPayload } from './jobs.ts';
import { type Pipeline, type PipelineSettings, requestWidth, settingsKey } from './pipeline.ts';
import { enqueue } from './queues.ts';
import type { Runtime } from './runtime.ts';

export interface ReindexRequest {
  collection: string;
  /** The configuration with the new settings (config file/env plus command-line flags). */
  target: Config;
  autoSwitch?: boolean;
  budgetTokens?: number | undefined;
}

export interface ReindexStarted {
  collection: string;
  generation: number;
  from: number;
  settings: PipelineSettings;
  /** true: a build with these settings was already under way and was picked up again. */
  resumed: boolean;
  documents: number;
}

const settingsOf = (g: GenerationSummary): PipelineSettings => ({
  embedder: g.embedder,
  model: g.model,
  dimensions: g.dimensions,
  chunkSize: g.chunkSize,
  chunkOverlap: g.chunkOverlap,
});

/** The pipeline a re-index would build with, refusing settings the collection already has active. */
export async function targetPipeline(rt: Runtime, req: ReindexRequest): Promise<Pipeline> {
  const active = await getGeneration(rt.pool, req.collection);
  if (!active) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `collection "${req.collection}" does not exist: ingest something first`,
    );
  }
  return rt.pipelineFromConfig(req.target);
}

/** Prices a re-index without embedding: the collection's documents through extract and chunk. */
export async function estimateReindex(rt: Runtime, req: ReindexRequest): Promise<Estimate> {
  const pipeline = await targetPipeline(rt, req);
  const docs = await activeDocuments(rt.pool, req.collection);
  return estimate(
    rt,
    pipeline,
    docs.map((d) => ({ uri: d.uri, hash: d.content_hash })),
  );
}

/** Creates generation N+1 and queues every document for it, or resumes the build with these settings. */
export async function startReindex(rt: Runtime, req: ReindexRequest): Promise<ReindexStarted> {
  const pipeline = await targetPipeline(rt, req);
  const settings = pipeline.settings();
  const key = settingsKey(settings);
  const gens = await listGenerations(rt.pool, req.collection);
  const active = gens.find((g) => g.active);
  if (!active) throw new SluiceError('INTERNAL', `collection "${req.collection}" has no active generation`);
  if (settingsKey(settingsOf(active)) === key) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `generation ${active.generation} of "${req.collection}" already uses these settings; ` +
        'pass --embedder, --model, --dimensions, --chunk-size or --chunk-overlap to change them',
    );
  }
  const same = gens.find((g) => g.state !== 'retired' && !g.active && settingsKey(settingsOf(g)) === key);
  if (same) {
    await updateGeneration(rt.pool, req.collection, same.generation, {
      budgetTokens: req.budgetTokens,
      autoSwitch: req.autoSwitch === true,
    });
    await requeueFailedGenerationDocs(rt.pool, req.collection, same.generation);
    const docs = await activeDocuments(rt.pool, req.collection, same.generation);
    await enqueueBuild(rt, req.collection, same.generation, docs);
    return {
      collection: req.collection,
      generation: same.generation,
      from: active.generation,
      settings,
      resumed: true,
      documents: docs.length,
    };
  }
  const created = await createGeneration(rt.pool, {
    collection: req.collection,
    embedder: settings.embedder,
    model: settings.model,
    dimensions: settings.dimensions,
    fingerprint: {
      extract: pipeline.fingerprints.extract,
      chunk: pipeline.chunkOptions,
      modelKey: pipeline.fingerprints.modelKey,
      requestDimensions: req.target.embedDimensions ?? null,
    },
    autoSwitch: req.autoSwitch === true,
    budgetTokens: req.budgetTokens,
  });
  await enqueueBuild(rt, req.collection, created.generation, created.documents);
  return {
    collection: req.collection,
    generation: created.generation,
    from: active.generation,
    settings,
    resumed: false,
    documents: created.documents.length,
  };
}

/** Queues build jobs (extract first; the deterministic ids make a resumed build's re-adds harmless). */
async function enqueueBuild(
  rt: Runtime,
  collection: string,
  generation: number,
  docs: { id: number; uri: string; content_hash: string; stage?: string | null }[],
): Promise<void> {
  for (const d of docs) {
    const payload: JobPayload = {
      v: 1,
      documentId: d.id,
      contentHash: d.content_hash,
      collection,
      uri: d.uri,
      generation,
    };
    const stage = d.stage === 'chunk' || d.stage === 'embed' || d.stage === 'load' ? d.stage : 'extract';
    await enqueue(rt.queues, stage, payload);
  }
}

export interface BuildProgress {
  summary: GenerationSummary;
  timedOut: boolean;
  /** Why every remaining document waits (a spent budget), when that is what stopped the wait. */
  paused: string | null;
}

/**
 * Polls a build until it is ready (with autoSwitch: active, switching it here
 * as soon as it is ready), retired, or every remaining document waits on a
 * budget, or the deadline passes.
 */
export async function waitForBuild(
  rt: Runtime,
  collection: string,
  generation: number,
  opts: { autoSwitch?: boolean; timeoutMs?: number; onTick?: (s: GenerationSummary) => void } = {},
): Promise<BuildProgress> {
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Number.POSITIVE_INFINITY;
  for (;;) {
    await markReadyIfComplete(rt.pool, collection, generation);
    let summary = await summaryOf(rt, collection, generation);
    if (opts.autoSwitch && summary.state === 'ready') {
      await switchTo(rt, collection, generation, { requireReady: true }).catch(() => undefined);
      summary = await summaryOf(rt, collection, generation);
    }
    opts.onTick?.(summary);
    const finished = opts.autoSwitch ? summary.active : summary.state === 'ready' || summary.active;
    if (finished || summary.state === 'retired') return { summary, timedOut: false, paused: null };
    const d = summary.documents;
    if (d.pending > 0 && d.waiting === d.pending && /budget/i.test(summary.waitingReason ?? ''))
      return { summary, timedOut: false, paused: summary.waitingReason };
    if (Date.now() > deadline) return { summary, timedOut: true, paused: null };
    await sleep(250);
  }
}

async function summaryOf(rt: Runtime, collection: string, generation: number): Promise<GenerationSummary> {
  const found = (await listGenerations(rt.pool, collection)).find((g) => g.generation === generation);
  if (!found) throw new SluiceError('INTERNAL', `generation ${generation} of "${collection}" disappeared`);
  return found;
}

/** The settings flags of `reindex`, as given (strings from the command line). */
export interface SettingFlags {
  embedder?: string | undefined;
  model?: string | undefined;
  dimensions?: string | undefined;
  chunkSize?: string | undefined;
  chunkOverlap?: string | undefined;
}

/**
 * The configuration a re-index builds with. Without flags it is the configured
 * one (change the config, run `reindex`). With flags, the active generation's
 * settings are the base and only what the flags name changes; a new embedder or
 * model starts from its configured (or default) model and its native width.
 * `read` validates overrides as the configuration loader does.
 */
export function targetConfig(
  config: Config,
  active: GenerationInfo,
  flags: SettingFlags,
  read: (overrides: Record<string, unknown>) => Config,
): Config {
  if (!Object.values(flags).some((v) => v !== undefined)) return config;
  const embedder = flags.embedder ?? active.embedder;
  const sameEmbedder = embedder === active.embedder;
  const sameModel = sameEmbedder && (flags.model === undefined || flags.model === active.model);
  const activeWidth = requestWidth(active);
  const out = read({
    embedder,
    embedModel: flags.model ?? (sameEmbedder && embedder !== 'hash' ? active.model : undefined),
    embedDimensions: flags.dimensions ?? (sameModel ? activeWidth : undefined),
    chunkSize: flags.chunkSize ?? active.chunkSize,
    chunkOverlap: flags.chunkOverlap ?? active.chunkOverlap,
  });
  // What the flags leave open comes from the provider, not from settings meant for another
  // embedder or model (read() keeps configured values for overrides left undefined).
  const configuredModel =
    config.embedder === embedder && (flags.model === undefined || flags.model === config.embedModel);
  if (flags.model === undefined && !sameEmbedder && config.embedder !== embedder) delete out.embedModel;
  if (flags.dimensions === undefined && (sameModel ? activeWidth === undefined : !configuredModel))
    delete out.embedDimensions;
  return out;
}
