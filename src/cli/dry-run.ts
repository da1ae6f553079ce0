// Dry-run output shared by `ingest --dry-run` and `reindex --dry-run`: what would
// be embedded, in tokens and money, with nothing embedded.

import type { Estimate } from '../queue/estimate.ts';
import type { Runtime } from '../queue/runtime.ts';
import type { SourceFile } from '../sources/files.ts';
import { escapeControls } from '../terminal-text.ts';
import { dollars } from './generation-view.ts';
import { type CliIO, EXIT, type GlobalOpts, writeJson } from './io.ts';

/** `ingest --dry-run`: returns the exit code (1 if some files could not be read or extracted). */
export async function dryRunIngest(
  rt: Runtime,
  io: CliIO,
  files: SourceFile[],
  opts: { collection: string; force?: boolean },
  g: GlobalOpts,
): Promise<number> {
  const { estimateIngest } = await import('../queue/estimate.ts');
  const est = await estimateIngest(rt, files, opts);
  if (g.json) writeJson(io, { dryRun: true, collection: opts.collection, ...est });
  else {
    io.stderr(`${est.files} file(s): ${est.unchanged} unchanged, ${est.refused} refused (too large)\n`);
    io.stdout(estimateText(est));
  }
  return est.failures.length > 0 || est.refused > 0 ? EXIT.someFailed : EXIT.ok;
}

/** The human form of a dry run, shared with `ingest --dry-run`. */
export function estimateText(e: Estimate): string {
  const lines = [
    `dry run with ${e.embedder}/${e.model} (${e.dimensions}-d): nothing was embedded`,
    `  documents: ${e.documents}, chunks: ${e.chunks}`,
    `  tokens: ${e.tokens} (${e.cachedTokens} already in the embedding cache)`,
    `  to embed: ${e.tokensToEmbed} tokens in ${e.textsToEmbed} texts`,
    `  estimated price: ${dollars(e.estimatedCost)}` +
      (e.pricePerMTok === null ? ' (set SLUICE_EMBED_PRICE_PER_MTOK)' : ` at $${e.pricePerMTok}/1M tokens`),
  ];
  for (const f of e.failures)
    lines.push(`  failed: ${escapeControls(f.uri)}: ${f.code}: ${escapeControls(f.message)}`);
  return `${lines.join('\n')}\n`;
}
