// Bull Board at /queues for the stage queues. Its own Retry is switched off
// (allowRetries: false): re-running a job whose document is already marked
// failed would only end it `superseded`; retries go through sluice's requeue
// (the overview's Retry buttons, `sluice retry`). Its client sends PUT/POST with
// an X-XSRF-TOKEN header mirrored from our XSRF-TOKEN cookie, so the dashboard's
// auth and CSRF checks cover it. Nothing is fetched from a CDN: the one web-font
// link in its page is removed and its bundle is served from node_modules. Each
// queue is shown by its stage name, on Redis and Postgres alike.
import type { Hono, MiddlewareHandler } from 'hono';
import { STAGES } from '../queue/jobs.ts';
import type { Runtime } from '../queue/runtime.ts';

export const BOARD_PATH = '/queues';

const DESCRIPTIONS: Record<string, string> = {
  extract: 'bytes → text with structure',
  chunk: 'text → chunks',
  embed: 'chunks → vectors',
  load: 'vectors → Postgres (searchable)',
};

export async function bullBoardApp(rt: Runtime): Promise<Hono> {
  const [{ createBullBoard }, { BullMQAdapter }, { HonoAdapter }, { serveStatic }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/hono'),
    import('@hono/node-server/serve-static'),
  ]);
  const server = new HonoAdapter(serveStatic).setBasePath(BOARD_PATH);
  createBullBoard({
    queues: STAGES.map(
      (stage) =>
        new BullMQAdapter(rt.queues[stage], {
          allowRetries: false,
          description: DESCRIPTIONS[stage],
          // Not the BullMQ name, which is `<prefix>.<stage>` on the Postgres queue.
          displayName: stage,
        }),
    ),
    serverAdapter: server,
    options: {
      uiConfig: {
        boardTitle: 'sluice queues',
        hideDocsLink: true,
        miscLinks: [{ text: 'Pipeline overview', url: '/' }],
      },
    },
  });
  return server.registerPlugin();
}

/**
 * Refuses Bull Board's job retries (allowRetries only hides the buttons) and its
 * add/edit-job calls: jobs enter the pipeline only through sluice's producer and requeue.
 */
export const noBoardRetries: MiddlewareHandler = async (c, next) => {
  const path = c.req.path.slice(BOARD_PATH.length);
  if (/^\/api\/queues\/[^/]+\/(retry\/[^/]+|[^/]+\/retry|add|[^/]+\/update-data)$/.test(path)) {
    return c.text(
      'forbidden: retry documents from the overview (sluice retry); jobs are added only by sluice',
      403,
    );
  }
  return next();
};

/** Drops external stylesheet links (Bull Board's Google Fonts) from its HTML: the dashboard may run offline. */
export const noExternalAssets: MiddlewareHandler = async (c, next) => {
  await next();
  if (!(c.res.headers.get('content-type') ?? '').includes('text/html')) return;
  const body = (await c.res.text()).replace(/<link\b[^>]*href="https?:\/\/[^"]*"[^>]*>/g, '');
  const headers = new Headers(c.res.headers);
  headers.delete('content-length');
  c.res = new Response(body, { status: c.res.status, headers });
};
