// A quick retrieval check: embed a query with the configured embedder and list
// the nearest chunks, as `sluice search` does. A read: GET changes nothing.
import { Hono } from 'hono';
import { messageOf } from '../errors.ts';
import { getCollection, type SearchHit, searchChunks } from '../loaders/pgvector.ts';
import type { Runtime } from '../queue/runtime.ts';
import type { DashEnv } from './env.ts';
import { html, page, type SafeHtml, shortName } from './html.ts';

const COLLECTION_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;

export function searchRoutes(rt: Runtime): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.get('/search', async (c) => {
    // A search spends embedding calls: another site must not trigger them through the user's browser.
    if (c.req.header('sec-fetch-site') === 'cross-site') {
      return c.text('forbidden: open the search from the dashboard itself', 403);
    }
    const q = (c.req.query('q') ?? '').trim().slice(0, 500);
    const name = c.req.query('collection') || rt.config.collection;
    let result: SafeHtml;
    if (!q) result = html`<p class="muted">Type a query.</p>`;
    else if (!COLLECTION_RE.test(name)) result = html`<p class="alert bad">Not a collection name.</p>`;
    else {
      const collection = await getCollection(rt.pool, name);
      if (!collection)
        result = html`<p class="alert warn">Collection ${name} does not exist yet: ingest something first.</p>`;
      else {
        try {
          const [vector] = await rt.embedder.embed([q]);
          result = hitList(await searchChunks(rt.pool, collection, vector!, 10));
        } catch (err) {
          result = html`<p class="alert bad">The search failed: ${messageOf(err)}</p>`;
        }
      }
    }
    const body = html`<h1>Search</h1>
<form method="get" action="/search" class="searchbox">
  <input type="search" name="q" value="${q}" aria-label="query" maxlength="500" required>
  <input type="text" name="collection" value="${name}" aria-label="collection" maxlength="63">
  <button type="submit">Search</button>
</form>
${result}`;
    return c.html(
      page(
        { title: 'Search', nav: 'search', signedIn: c.get('auth') === 'cookie', csrf: c.get('csrf') },
        body,
      ),
    );
  });
  return app;
}

function hitList(hits: SearchHit[]): SafeHtml {
  if (hits.length === 0) return html`<p class="muted">No results.</p>`;
  return html`<ol class="chunks" data-testid="search-results">${hits.map((h) => {
    const m = h.metadata as { page_start?: number; heading_path?: string[] };
    return html`<li><div class="prov"><b>${h.score.toFixed(3)}</b> <a href="/documents/${h.documentId}" title="${h.uri}">${shortName(h.uri)}</a>${
      m.page_start ? html` <span class="page">p. ${m.page_start}</span>` : ''
    }${m.heading_path?.length ? html` <span class="heading">§ ${m.heading_path.join(' › ')}</span>` : ''}</div><p>${h.text.slice(0, 600)}</p></li>`;
  })}</ol>`;
}
