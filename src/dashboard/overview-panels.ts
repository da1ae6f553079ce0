// Two overview panels that appear only when there is something to act on or
// watch: deletions the mass-delete guard holds (Approve / Discard, the same
// functions as `sluice sources approve-deletes|discard-deletes`), and re-index
// builds in progress (what `sluice status` shows, from buildStatus()).
import type { SourceSummary } from '../loaders/sources.ts';
import { html, num, type SafeHtml } from './html.ts';
import type { Overview } from './overview-data.ts';

export function heldDeletionsPanel(o: Overview, csrf: string): SafeHtml | '' {
  if (o.heldSources.length === 0) return '';
  const share = `${Math.round(o.deleteGuard * 100)}%`;
  const rows = o.heldSources.map((s) => heldRow(s, share, csrf));
  return html`<section data-testid="held-deletions"><h2>Deletions held by the mass-delete guard</h2>
<p class="muted">One scan found more of a source gone than <code>SLUICE_DELETE_GUARD</code> (${share}) allows,
so nothing was deleted. Check the source (an unmounted disk, a wrong prefix), then approve or discard.</p>
<div class="scroll"><table><thead><tr><th>source</th><th>collection</th><th>held</th><th>why</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></div></section>`;
}

function heldRow(s: SourceSummary, share: string, csrf: string): SafeHtml {
  const total = s.objects + s.pendingDeletes + s.heldDeletes;
  const form = (action: string, label: string, question: string) =>
    html`<form method="post" action="/actions/${action}" data-confirm="${question}">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="source" value="${s.id}">
<button type="submit">${label}</button></form>`;
  return html`<tr data-testid="held-${s.id}"><td class="msg">${s.uri}</td><td>${s.collection}</td>
<td data-col="held">${num(s.heldDeletes)}</td>
<td data-col="why">${num(s.heldDeletes)} of ${num(total)} objects gone in one scan, over the ${share} guard</td>
<td class="actions">${form('approve-deletes', 'Approve', `Delete the ${s.heldDeletes} document(s) of ${s.uri} that are gone?`)}
${form('discard-deletes', 'Discard', `Keep the ${s.heldDeletes} document(s) of ${s.uri} indexed and stop tracking them?`)}</td></tr>`;
}

export function buildsPanel(o: Overview): SafeHtml | '' {
  const { builds, budget } = o.builds;
  if (builds.length === 0 && budget.waiting === 0) return '';
  const rows = builds.map((b) => {
    const d = b.documents;
    const tokens =
      b.budgetTokens === null
        ? num(b.tokensEmbedded)
        : `${num(b.tokensEmbedded)} of ${num(b.budgetTokens)} budget`;
    const waiting = b.waitingReason ? `${num(d.waiting)} document(s) ${b.waitingReason}` : '';
    return html`<tr data-testid="build-${b.collection}-${b.generation}"><td>${b.collection}</td>
<td data-col="generation">#${b.generation}</td><td data-col="state">${b.state}${b.previous ? ' (rollback target)' : ''}</td>
<td data-col="documents">${num(d.done)} / ${num(d.total)}${d.failed ? ` (${num(d.failed)} failed)` : ''}</td>
<td data-col="chunks">${num(b.chunks)}</td><td data-col="tokens">${tokens}</td><td data-col="waiting" class="msg">${waiting}</td></tr>`;
  });
  const held =
    budget.waiting > 0
      ? html`<p class="alert warn" data-testid="budget-wait">${num(budget.waiting)} live document(s) wait on the embedding budget: ${budget.reason ?? ''}</p>`
      : '';
  return html`<section data-testid="builds"><h2>Re-index builds</h2>${held}
${
  builds.length > 0
    ? html`<div class="scroll"><table><thead><tr><th>collection</th><th>generation</th><th>state</th><th>documents done</th><th>chunks</th><th>tokens</th><th>waiting</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="muted">Generations beside the searched one (<code>sluice generations</code>); <code>sluice switch</code> makes a ready one searched.</p>`
    : ''
}</section>`;
}
