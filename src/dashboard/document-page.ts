// One document: where it is, its stage runs (timestamps, durations, outcomes),
// attempts, error, metadata, and its first chunks with page and heading
// provenance. The live region refreshes while the document moves.
import { Hono } from 'hono';
import { canChange } from '../loaders/document-state.ts';
import { type DocumentRow, getDocument } from '../loaders/documents.ts';
import { type ChunkPreview, firstChunks, type StageRunRow, stageRunsOf } from '../loaders/inspect.ts';
import type { Runtime } from '../queue/runtime.ts';
import type { DashEnv } from './env.ts';
import { duration, html, isoTime, num, page, type SafeHtml, shortName } from './html.ts';

const CHUNKS_SHOWN = 20;

export function documentRoutes(rt: Runtime): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  const load = async (raw: string) => {
    const id = Number(raw);
    if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(id)) return undefined;
    const doc = await getDocument(rt.pool, id);
    if (!doc) return undefined;
    const [runs, chunks] = await Promise.all([
      stageRunsOf(rt.pool, id),
      firstChunks(rt.pool, id, { limit: CHUNKS_SHOWN, maxChars: 1200 }),
    ]);
    return { doc, runs, chunks };
  };
  app.get('/documents/:id', async (c) => {
    const d = await load(c.req.param('id'));
    if (!d)
      return c.html(
        page(
          { title: 'Not found', nav: 'none' },
          html`<h1>No such document</h1><p><a href="/">Back to the overview</a></p>`,
        ),
        404,
      );
    const body = html`<p><a href="/">← Overview</a></p>
<h1 class="name" title="${d.doc.uri}">${shortName(d.doc.uri)}</h1>
<div id="live" data-live="/partials/documents/${d.doc.id}" aria-live="polite">${renderDocument(d.doc, d.runs, d.chunks, c.get('csrf'))}</div>`;
    return c.html(
      page(
        { title: `Document ${d.doc.id}`, signedIn: c.get('auth') === 'cookie', csrf: c.get('csrf') },
        body,
      ),
    );
  });
  app.get('/partials/documents/:id', async (c) => {
    const d = await load(c.req.param('id'));
    if (!d) return c.text('not found', 404);
    return c.html(renderDocument(d.doc, d.runs, d.chunks, c.get('csrf')).value);
  });
  return app;
}

function renderDocument(
  doc: DocumentRow,
  runs: StageRunRow[],
  chunks: { total: number; chunks: ChunkPreview[] },
  csrf: string,
): SafeHtml {
  const retry =
    canChange('retry', doc.status) && doc.content_hash
      ? html`<form method="post" action="/actions/retry"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="id" value="${doc.id}"><input type="hidden" name="from" value="document"><button type="submit">Retry</button></form>`
      : '';
  return html`<section class="cards">
<div class="card"><h2>Status</h2>
<p class="big"><span class="status ${doc.status}" data-testid="doc-status">${doc.status}</span>${doc.stage ? html` at ${doc.stage}` : ''}</p>
${doc.error_code ? html`<p class="alert bad" data-testid="doc-error"><code>${doc.error_code}</code> ${doc.error_message ?? ''}</p>` : ''}
${doc.status === 'stale' ? html`<p class="muted" data-testid="doc-stale">A newer version failed (above); search still serves the last good version.</p>` : ''}
${retry}
</div>
<div class="card"><h2>Document</h2><dl>
<dt>id</dt><dd>${doc.id}</dd><dt>collection</dt><dd>${doc.collection}</dd>
<dt>uri</dt><dd class="msg" data-testid="doc-uri">${doc.uri}</dd>
<dt>title</dt><dd>${doc.title ?? '—'}</dd><dt>type</dt><dd>${doc.mime ?? '—'}</dd>
<dt>bytes</dt><dd>${num(doc.bytes)}</dd><dt>attempts</dt><dd data-testid="doc-attempts">${doc.attempts}</dd>
<dt>content hash</dt><dd><code>${doc.content_hash?.slice(0, 16) ?? '—'}</code></dd>
<dt>updated</dt><dd>${isoTime(doc.updated_at)}</dd>
</dl></div>
</section>
<section><h2>Stage runs</h2>${runTable(runs)}</section>
<section><h2>Metadata</h2><pre class="meta">${JSON.stringify(doc.metadata ?? {}, null, 2)}</pre></section>
<section><h2>Chunks <span class="muted">(first ${num(chunks.chunks.length)} of ${num(chunks.total)})</span></h2>${chunkList(chunks.chunks)}</section>`;
}

function runTable(runs: StageRunRow[]): SafeHtml {
  if (runs.length === 0) return html`<p class="muted">No stage has run yet.</p>`;
  return html`<div class="scroll"><table data-testid="stage-runs"><thead><tr><th>finished</th><th>stage</th><th>outcome</th><th>duration</th><th>version</th><th>detail</th></tr></thead><tbody>${runs.map(
    (
      r,
    ) => html`<tr data-stage="${r.stage}"><td>${isoTime(r.at)}</td><td>${r.stage}</td><td><span class="status ${r.outcome}">${r.outcome}</span></td>
<td>${duration(r.durationMs)}</td><td><code>${r.contentHash.slice(0, 8)}</code></td><td>${detailText(r.detail)}</td></tr>`,
  )}</tbody></table></div>`;
}

function detailText(detail: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof detail.code === 'string') parts.push(detail.code);
  if (typeof detail.freshness_ms === 'number')
    parts.push(`searchable ${duration(detail.freshness_ms)} after enqueue`);
  return parts.join('; ');
}

function chunkList(chunks: ChunkPreview[]): SafeHtml {
  if (chunks.length === 0) return html`<p class="muted">No chunks are searchable for this document.</p>`;
  return html`<ol class="chunks" data-testid="chunks">${chunks.map((ch) => {
    const m = ch.metadata;
    const pages =
      typeof m.page_start === 'number'
        ? html`<span class="page" data-testid="chunk-page">p. ${m.page_start}${m.page_end && m.page_end !== m.page_start ? `–${m.page_end}` : ''}</span>`
        : '';
    const heading =
      Array.isArray(m.heading_path) && m.heading_path.length > 0
        ? html`<span class="heading">§ ${m.heading_path.join(' › ')}</span>`
        : '';
    return html`<li value="${ch.ordinal + 1}"><div class="prov">#${ch.ordinal} ${pages} ${heading} <span class="muted">${num(ch.tokenCount)} tokens</span></div><p>${ch.text}</p></li>`;
  })}</ol>`;
}
