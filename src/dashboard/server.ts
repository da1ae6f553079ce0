// The dashboard's HTTP server (Hono on @hono/node-server): assembles the pages,
// Bull Board, actions, /metrics and probes behind one auth + CSRF layer, and
// listens. Other HTTP features (e.g. an upload API) mount through extraRoutes
// and get the same protection. `metricsOnly` is the small server workers start
// for `sluice worker --metrics-port`.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Hono, type MiddlewareHandler } from 'hono';
import { SluiceError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Runtime } from '../queue/runtime.ts';
import { isLoopback } from '../tokens.ts';
import { actionRoutes } from './actions.ts';
import { createAuth } from './auth.ts';
import { BOARD_PATH, bullBoardApp, noBoardRetries, noExternalAssets } from './bull-board.ts';
import { createCsrf } from './csrf.ts';
import { documentRoutes } from './document-page.ts';
import type { DashEnv } from './env.ts';
import { healthRoutes } from './health.ts';
import { html, page } from './html.ts';
import { createMetrics } from './metrics.ts';
import { overviewRoutes } from './overview-page.ts';
import { searchRoutes } from './search-page.ts';

export interface DashboardDeps {
  rt: Runtime;
  /** Overrides rt.config.dashboardToken (SLUICE_DASHBOARD_TOKEN). */
  token?: string | undefined;
  log?: Logger;
}

export interface DashboardOptions {
  /** Sub-apps mounted behind the same auth and CSRF checks, e.g. { path: '/v1', app }. */
  // biome-ignore lint/suspicious/noExplicitAny: sub-apps bring their own Hono env types
  extraRoutes?: Array<{ path: string; app: Hono<any> }>;
  /** Only /metrics, /healthz and /readyz (the worker's metrics port). */
  metricsOnly?: boolean;
}

export interface DashboardApp {
  app: Hono<DashEnv>;
  close(): void;
}

const ASSETS: Record<string, string> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'live.js': 'text/javascript; charset=utf-8',
};

export async function createDashboardApp(
  deps: DashboardDeps,
  opts: DashboardOptions = {},
): Promise<DashboardApp> {
  const { rt } = deps;
  const token = deps.token ?? rt.config.dashboardToken;
  // Derived from the token so that every replica accepts the same CSRF cookies; random when open.
  const csrfSecret = token ? createHmac('sha256', token).update('sluice-csrf').digest() : randomBytes(32);
  const csrf = createCsrf(csrfSecret);
  const auth = createAuth(token);
  const app = new Hono<DashEnv>();
  app.use('*', securityHeaders, csrf.issue, auth.middleware, csrf.verify);
  app.route('/', healthRoutes(rt));

  const metrics = await createMetrics(rt);
  app.get('/metrics', async (c) =>
    c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }),
  );

  if (!opts.metricsOnly) {
    app.route('/', auth.routes);
    for (const [name, type] of Object.entries(ASSETS)) {
      const body = readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
      app.get(`/assets/${name}`, (c) =>
        c.body(body, 200, { 'Content-Type': type, 'Cache-Control': 'no-cache' }),
      );
    }
    app.route('/', overviewRoutes(rt));
    app.route('/', documentRoutes(rt));
    app.route('/', searchRoutes(rt));
    app.route('/', actionRoutes(rt));
    app.use(`${BOARD_PATH}/*`, noExternalAssets, noBoardRetries);
    app.get(`${BOARD_PATH}/`, (c) => c.redirect(BOARD_PATH));
    app.route(BOARD_PATH, await bullBoardApp(rt));
    for (const extra of opts.extraRoutes ?? []) app.route(extra.path, extra.app);
  }
  app.notFound((c) =>
    c.req.header('accept')?.includes('text/html')
      ? c.html(
          page({ title: 'Not found', nav: 'none' }, html`<h1>Not found</h1><p><a href="/">Overview</a></p>`),
          404,
        )
      : c.text('not found', 404),
  );
  app.onError((err, c) => {
    // The reason goes to the log (redacted there); the response names no internals.
    deps.log?.error(`dashboard: ${c.req.method} ${c.req.path}: ${err.message}`);
    return c.text('internal error: see the dashboard log', 500);
  });
  return { app, close: () => metrics.close() };
}

/** Strict CSP for our pages (no inline script, nothing off-site); Bull Board needs inline styles. */
const securityHeaders: MiddlewareHandler<DashEnv> = async (c, next) => {
  await next();
  const board = c.req.path === BOARD_PATH || c.req.path.startsWith(`${BOARD_PATH}/`);
  const h = c.res.headers;
  h.set(
    'Content-Security-Policy',
    `default-src 'self'; script-src 'self'; style-src 'self'${board ? " 'unsafe-inline'" : ''}; img-src 'self' data:; ` +
      "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
  );
  h.set('X-Content-Type-Options', 'nosniff');
  h.set('Referrer-Policy', 'same-origin'); // not no-referrer: Chrome would then send "Origin: null" on our own forms
  h.set('X-Frame-Options', 'DENY');
};

/** Why this bind is refused, or undefined when it is allowed. */
export function bindProblem(host: string, token: string | undefined): string | undefined {
  if (token || isLoopback(host)) return undefined;
  return `refusing to listen on ${host} without SLUICE_DASHBOARD_TOKEN: set it to a long random secret, or use --host 127.0.0.1`;
}

export interface ListenOptions extends DashboardOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningDashboard {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Builds the app and listens; CONFIG_ERROR for a refused bind, CONNECTION_ERROR when the port is taken. */
export async function startDashboard(deps: DashboardDeps, opts: ListenOptions): Promise<RunningDashboard> {
  const problem = bindProblem(opts.host, deps.token ?? deps.rt.config.dashboardToken);
  if (problem) throw new SluiceError('CONFIG_ERROR', problem);
  const { app, close } = await createDashboardApp(deps, opts);
  const { createAdaptorServer } = await import('@hono/node-server');
  const server = createAdaptorServer({ fetch: app.fetch });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    close();
    const code = (err as { code?: string }).code;
    throw new SluiceError(
      'CONFIG_ERROR',
      code === 'EADDRINUSE'
        ? `port ${opts.port} on ${opts.host} is already in use: pick another port`
        : `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        close();
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
