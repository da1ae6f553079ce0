// The dashboard's actions: Retry one failed document, or all of a reason code in
// a collection. Both go through sluice's own requeue (queue/retry.ts, the same
// code as `sluice retry`), never through Bull Board's job retry, which would re-run
// a job whose document is already marked failed. POST only, behind auth and CSRF.
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { failedDocuments, getDocument } from '../loaders/documents.ts';
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
    if (doc.status !== 'failed') return c.text(`document ${id} has not failed: nothing to retry`, 409);
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
  return app;
}

function respond(c: Context<DashEnv>, result: { retried: number[]; needIngest: number[] }, back: string) {
  if ((c.req.header('accept') ?? '').includes('application/json')) return c.json(result);
  return c.redirect(back, 303);
}
