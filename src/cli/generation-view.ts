// How generations are shown by `generations`, `reindex` and `status`: one line
// each for people, one plain object each for --json.
import type { Config } from '../config.ts';
import { costOf, pricePerMTok } from '../embedders/prices.ts';
import type { GenerationSummary } from '../loaders/generations.ts';

export interface GenerationJson {
  collection: string;
  generation: number;
  state: string;
  active: boolean;
  /** The generation `rollback` returns to. */
  previous: boolean;
  fingerprint: {
    embedder: string;
    model: string;
    dimensions: number;
    chunkSize: number;
    chunkOverlap: number;
  };
  documents: GenerationSummary['documents'];
  chunks: number;
  tokensEmbedded: number;
  budgetTokens: number | null;
  costSoFar: number | null;
  autoSwitch: boolean;
  waitingReason: string | null;
}

export function generationJson(g: GenerationSummary, config: Config): GenerationJson {
  // The configured price override applies to the configured model only.
  const override =
    config.embedder === g.embedder && (config.embedModel === undefined || config.embedModel === g.model)
      ? config.embedPricePerMTok
      : undefined;
  return {
    collection: g.name,
    generation: g.generation,
    state: g.state,
    active: g.active,
    previous: g.previous,
    fingerprint: {
      embedder: g.embedder,
      model: g.model,
      dimensions: g.dimensions,
      chunkSize: g.chunkSize,
      chunkOverlap: g.chunkOverlap,
    },
    documents: g.documents,
    chunks: g.chunks,
    tokensEmbedded: g.tokensEmbedded,
    budgetTokens: g.budgetTokens,
    costSoFar: costOf(g.tokensEmbedded, pricePerMTok(g.embedder, g.model, override)),
    autoSwitch: g.autoSwitch,
    waitingReason: g.waitingReason,
  };
}

export function settingsText(f: GenerationJson['fingerprint']): string {
  return `${f.embedder}/${f.model} ${f.dimensions}-d, chunks ${f.chunkSize}/${f.chunkOverlap}`;
}

export function dollars(n: number | null): string {
  if (n === null) return 'price unknown';
  return n > 0 && n < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(2)}`;
}

/** One line per generation, e.g. `#2 building  3/25 docs (1 failed) ...`. */
export function generationLine(j: GenerationJson): string {
  const d = j.documents;
  const tags = [
    j.active ? 'searched' : '',
    j.previous ? 'rollback target' : '',
    j.autoSwitch ? 'auto-switch' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const failed = d.failed ? `, ${d.failed} failed` : '';
  const budget = j.budgetTokens === null ? '' : ` of ${j.budgetTokens} budget`;
  const waiting = j.waitingReason ? `\n      ${d.waiting} document(s) ${j.waitingReason}` : '';
  return (
    `  #${j.generation} ${j.state.padEnd(8)} ${d.done}/${d.total} docs${failed}, ${j.chunks} chunks, ` +
    `${settingsText(j.fingerprint)}, ${j.tokensEmbedded} tokens${budget} (${dollars(j.costSoFar)})` +
    `${tags ? ` [${tags}]` : ''}${waiting}`
  );
}
