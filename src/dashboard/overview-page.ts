// The overview at `/`: stalls first (a stage nobody consumes, the oldest waiting
// job), then documents per collection, per-stage flow, freshness, failures with
// Retry, configuration waits and embedding traffic. `/partials/overview` serves
// the live region alone; assets/live.js swaps it in every few seconds.
import { Hono } from 'hono';
import type { Runtime } from '../queue/runtime.ts';
import type { DashEnv } from './env.ts';
import { duration, html, isoTime, num, page, type SafeHtml, shortName } from './html.ts';
import { loadOverview, type Overview, STATUSES } from './overview-data.ts';
import { buildsPanel, heldDeletionsPanel } from './overview-panels.ts';

export function overviewRoutes(rt: Runtime): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.get('/', async (c) => {
    const o = await loadOverview(rt);
    const body = html`<h1>Pipeline overview</h1>
<div id="live" data-live="/partials/overview" aria-live="polite">${renderOverview(o, c.get('csrf'))}</div>`;
    return c.html(
      page(
        { title: 'Overview', nav: 'overview', signedIn: c.get('auth') === 'cookie', csrf: c.get('csrf') },
        body,
      ),
    );
  });
  app.get('/partials/overview', async (c) =>
    c.html(renderOverview(await loadOverview(rt), c.get('csrf')).value),
  );
  return app;
}

export function renderOverview(o: Overview, csrf: string): SafeHtml {
  return html`${alerts(o)}
${heldDeletionsPanel(o, csrf)}
<section><h2>Stages</h2>${stageTable(o)}</section>
<section><h2>Documents</h2>${documentTable(o)}</section>
<section class="cards">
  <div class="card"><h2>Freshness</h2>
    <p>Enqueue → searchable, last hour (${num(o.freshness.n)} documents)</p>
    <p class="big"><span data-testid="freshness-p50">${duration(o.freshness.p50Ms)}</span> p50 · <span data-testid="freshness-p95">${duration(o.freshness.p95Ms)}</span> p95</p></div>
  ${embeddingCard(o)}
</section>
${buildsPanel(o)}
<section><h2>Failures by reason</h2>${codeTable(o, csrf)}</section>
<section><h2>Recent failures</h2>${failureTable(o, csrf)}</section>
<p class="muted">Updated <time data-testid="updated-at">${isoTime(o.at)}</time></p>`;
}

function alerts(o: Overview): SafeHtml {
  const items: SafeHtml[] = [];
  if (o.queueError) {
    items.push(
      html`<li class="alert bad">The queues cannot be read (${o.queueError}); the figures below come from Postgres.</li>`,
    );
  }
  for (const s of o.stages) {
    if (!s.queue || s.queue.workers > 0) continue;
    const waiting = s.queue.waiting + s.queue.delayed;
    items.push(
      html`<li class="alert ${waiting > 0 ? 'bad' : 'warn'}" data-testid="no-worker-${s.stage}">No worker is consuming stage <b>${s.stage}</b>${
        waiting > 0
          ? html`: ${num(waiting)} job(s) waiting, the oldest for ${duration(s.queue.oldestWaitingMs)}`
          : ''
      }. Start <code>sluice worker --stages ${s.stage}</code>.</li>`,
    );
  }
  for (const w of o.waitingOnConfig) {
    items.push(
      html`<li class="alert bad" data-testid="config-wait">${num(w.n)} document(s) in <b>${w.collection}</b> wait on the embedder's configuration: ${w.message ?? ''}</li>`,
    );
  }
  return items.length > 0
    ? html`<ul class="alerts">${items}</ul>`
    : html`<p class="alert ok">Every stage has a worker.</p>`;
}

function stageTable(o: Overview): SafeHtml {
  const rows = o.stages.map(({ stage, queue: q, stats: s }) => {
    return html`<tr data-testid="stage-${stage}">
  <th scope="row">${stage}</th>
  <td data-col="workers">${q ? num(q.workers) : '?'}</td>
  <td data-col="waiting">${q ? num(q.waiting) : '?'}</td>
  <td data-col="active">${q ? num(q.active) : '?'}</td>
  <td data-col="delayed">${q ? num(q.delayed) : '?'}</td>
  <td data-col="failed">${num(s.failedDocuments)}</td>
  <td data-col="m1">${num(s.finished.m1)}</td><td data-col="m5">${num(s.finished.m5)}</td><td data-col="m15">${num(s.finished.m15)}</td>
  <td>${duration(s.p50Ms)}</td><td>${duration(s.p95Ms)}</td>
  <td data-col="oldest">${q ? duration(q.oldestWaitingMs) : '?'}</td>
</tr>`;
  });
  return html`<div class="scroll"><table>
<thead><tr><th>stage</th><th>workers</th><th>waiting</th><th>active</th><th>delayed (retry)</th><th>failed docs</th>
<th title="runs finished in the last minute">1 min</th><th>5 min</th><th>15 min</th><th>p50</th><th>p95</th><th>oldest waiting</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="muted">Finished runs per window; durations of runs that did work in the last hour.</p>`;
}

function documentTable(o: Overview): SafeHtml {
  const collections = Object.keys(o.documents);
  if (collections.length === 0)
    return html`<p class="muted">No documents yet: run <code>sluice ingest</code>.</p>`;
  const rows = collections.map((name) => {
    const by = o.documents[name] ?? {};
    const total = Object.values(by).reduce((a, b) => a + b, 0);
    return html`<tr><th scope="row">${name}</th>${STATUSES.map(
      (s) => html`<td data-testid="count-${name}-${s}">${num(by[s] ?? 0)}</td>`,
    )}<td data-testid="count-${name}-total">${num(total)}</td></tr>`;
  });
  return html`<div class="scroll"><table><thead><tr><th>collection</th>${STATUSES.map((s) => html`<th>${s}</th>`)}<th>total</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function embeddingCard(o: Overview): SafeHtml {
  const e = o.embedding;
  return html`<div class="card" data-testid="embedding"><h2>Embedding provider</h2>
<p><b>${e.embedder}</b> · ${e.model}</p>
<dl>
  <dt>requests</dt><dd>${num(e.requests)}</dd><dt>tokens</dt><dd>${num(e.tokens)}</dd>
  <dt>429s</dt><dd>${num(e.rateLimited)}</dd><dt>retries</dt><dd>${num(e.retries)}</dd>
  <dt>cache hit rate</dt><dd>${e.hitRate === null ? '—' : `${(e.hitRate * 100).toFixed(1)}%`} (${num(e.cacheHits)} hits, ${num(e.cacheMisses)} misses)</dd>
</dl></div>`;
}

function codeTable(o: Overview, csrf: string): SafeHtml {
  if (o.failureCodes.length === 0) return html`<p class="muted">No failed documents.</p>`;
  const rows = o.failureCodes.map(
    (f) =>
      html`<tr data-testid="code-${f.collection}-${f.code}"><td>${f.collection}</td><td><code>${f.code}</code></td><td>${num(f.n)}</td><td>${
        f.retryable > 0
          ? html`<form method="post" action="/actions/retry-code" data-confirm="Retry all ${num(f.retryable)} ${f.code} failure(s) in ${f.collection}?">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="collection" value="${f.collection}"><input type="hidden" name="code" value="${f.code}">
<button type="submit">Retry all ${num(f.retryable)}</button></form>`
          : html`<span class="muted">re-run ingest</span>`
      }</td></tr>`,
  );
  return html`<div class="scroll"><table><thead><tr><th>collection</th><th>code</th><th>documents</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function failureTable(o: Overview, csrf: string): SafeHtml {
  if (o.failures.length === 0) return html`<p class="muted">Nothing has failed.</p>`;
  const rows = o.failures.map(
    (f) => html`<tr data-testid="failure-${f.id}">
<td><a href="/documents/${f.id}" title="${f.uri}">${shortName(f.uri)}</a>${f.status === 'stale' ? html` <span class="status stale" title="this version failed; the last good version is still served">stale</span>` : ''}</td><td>${f.collection}</td><td>${f.stage ?? '—'}</td>
<td><code>${f.code ?? '?'}</code></td><td class="msg">${f.message ?? ''}</td><td>${isoTime(f.at)}</td>
<td>${
      f.retryable
        ? html`<form method="post" action="/actions/retry"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="id" value="${f.id}"><button type="submit">Retry</button></form>`
        : html`<span class="muted">re-run ingest</span>`
    }</td></tr>`,
  );
  return html`<div class="scroll"><table><thead><tr><th>document</th><th>collection</th><th>stage</th><th>code</th><th>message</th><th>when</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}
