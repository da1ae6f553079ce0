// The dashboard's actions: Retry one failed document, or all of a reason code in
// a collection; approve or discard the deletions the mass-delete guard holds for
// a source (the same functions as `sluice sources approve-deletes|discard-deletes`). Both go through sluice's own requeue (queue/retry.ts, the same
// code as `sluice retry`), never through Bull Board's job retry, which would re-run
// a job whose document is already marked failed. POST only, behind auth and CSRF.
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { canChange } from '../loaders/document-state.ts';
import { failedDocuments, getDocument } from '../loaders/documents.ts';
import { approveHeld, discardHeld } from '../loaders/source-objects.ts';
import { findSources } from '../loaders/sources.ts';
import { retryDocuments } from '../queue/retry.ts';
import type { Runtime } from '../queue/runtime.ts';
import type { DashEnv } from './env.ts';

const COLLECTION_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;
const CODE_RE = /^[A-Z_]{1,64}$/;

export function actionRoutes(rt: Runtime): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.use('/actions/*', bodyLimit({ maxSize: 16 * 1024 }));

  app.post('/actions/retry', async (c) => {
    const form = await c.req.parseBody();
    const id = Number(form.id);
    if (!Number.isSafeInteger(id) || id <= 0) return c.text('bad request: id must be a document id', 400);
    const doc = await getDocument(rt.pool, id);
    if (!doc) return c.text(`document ${id} does not exist`, 404);
    if (!canChange('retry', doc.status))
      return c.text(`document ${id} has not failed: nothing to retry`, 409);
    const result = await retryDocuments(rt, [doc]);
    return respond(c, result, form.from === 'document' ? `/documents/${id}` : '/');
  });

  app.post('/actions/retry-code', async (c) => {
    const form = await c.req.parseBody();
    const { collection, code } = form;
    if (typeof collection !== 'string' || !COLLECTION_RE.test(collection))
      return c.text('bad request: collection', 400);
    if (typeof code !== 'string' || !CODE_RE.test(code)) return c.text('bad request: code', 400);
    const result = await retryDocuments(rt, await failedDocuments(rt.pool, collection, code));
    return respond(c, result, '/');
  });

  app.post('/actions/approve-deletes', async (c) => {
    const source = await sourceOf(rt, await c.req.parseBody());
    if ('refused' in source) return c.text(source.refused, source.status);
    return respond(c, await approveHeld(rt.pool, source.id), '/');
  });

  app.post('/actions/discard-deletes', async (c) => {
    const source = await sourceOf(rt, await c.req.parseBody());
    if ('refused' in source) return c.text(source.refused, source.status);
    return respond(c, { discarded: await discardHeld(rt.pool, source.id) }, '/');
  });
  return app;
}

/** The source id a form names, or why not. */
async function sourceOf(
  rt: Runtime,
  form: Record<string, unknown>,
): Promise<{ id: number } | { refused: string; status: 400 | 404 }> {
  const id = Number(form.source);
  if (!Number.isSafeInteger(id) || id <= 0)
    return { refused: 'bad request: source must be a source id', status: 400 };
  const found = (await findSources(rt.pool, String(id))).find((s) => s.id === id);
  return found ? { id: found.id } : { refused: `source ${id} does not exist`, status: 404 };
}

function respond(c: Context<DashEnv>, result: object, back: string) {
  if ((c.req.header('accept') ?? '').includes('application/json')) return c.json(result);
  return c.redirect(back, 303);
}
