// Who may use the dashboard. Without SLUICE_DASHBOARD_TOKEN it is open, but only
// on loopback (server.ts refuses any other bind) and only to requests that name
// a loopback host (so a DNS-rebinding page cannot reach it). With a token: a
// login form that sets an HttpOnly, SameSite=Strict session cookie, or
// `Authorization: Bearer <token>` for scripts. The token never appears in a URL.
import { createHmac } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { isLoopback, safeEqual } from '../tokens.ts';
import type { DashEnv } from './env.ts';
import { html, page } from './html.ts';

export const SESSION_COOKIE = 'sluice_session';
const SESSION_SECONDS = 12 * 3600;
/** Wrong tokens accepted per minute (all clients together) before the form answers 429. */
const MAX_FAILED_LOGINS = 20;

/** Paths anyone may fetch: liveness/readiness probes, static assets, the login form. */
const PUBLIC = [/^\/healthz$/, /^\/readyz$/, /^\/assets\//, /^\/login$/];

export interface Auth {
  middleware: MiddlewareHandler<DashEnv>;
  /** GET/POST /login and POST /logout. */
  routes: Hono<DashEnv>;
}

export function createAuth(token: string | undefined): Auth {
  const sign = (exp: number) =>
    createHmac('sha256', token ?? '')
      .update(`session.${exp}`)
      .digest('base64url');
  const validSession = (value: string | undefined): boolean => {
    const [exp, mac] = (value ?? '').split('.');
    const expires = Number(exp);
    return !!mac && Number.isInteger(expires) && expires * 1000 > Date.now() && safeEqual(mac, sign(expires));
  };

  const middleware: MiddlewareHandler<DashEnv> = async (c, next) => {
    if (!token) {
      // Open mode: the Host header must name this machine (DNS-rebinding defence).
      const host = new URL(c.req.url).hostname;
      if (!isLoopback(host)) return c.text('forbidden: this dashboard answers only on localhost', 403);
      c.set('auth', 'open');
      return next();
    }
    const path = c.req.path;
    if (PUBLIC.some((re) => re.test(path))) return next();
    const header = c.req.header('authorization');
    if (header?.startsWith('Bearer ')) {
      if (!safeEqual(header.slice(7).trim(), token)) return unauthorized(c, false);
      c.set('auth', 'bearer');
      return next();
    }
    if (validSession(getCookie(c, SESSION_COOKIE))) {
      c.set('auth', 'cookie');
      return next();
    }
    return unauthorized(c, c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html'));
  };

  const unauthorized = (c: Parameters<MiddlewareHandler<DashEnv>>[0], asPage: boolean) => {
    c.header('WWW-Authenticate', 'Bearer realm="sluice"');
    if (asPage) return c.html(loginPage(c.get('csrf')), 401);
    return c.text(
      'unauthorized: sign in at /login or send Authorization: Bearer <SLUICE_DASHBOARD_TOKEN>',
      401,
    );
  };

  const failures = slidingCount(60_000);
  const routes = new Hono<DashEnv>();
  routes.get('/login', (c) => (token ? c.html(loginPage(c.get('csrf'))) : c.redirect('/')));
  routes.post('/login', bodyLimit({ maxSize: 8 * 1024 }), async (c) => {
    if (!token) return c.redirect('/', 303);
    if (failures.recent() >= MAX_FAILED_LOGINS) {
      return c.html(loginPage(c.get('csrf'), 'Too many wrong tokens: wait a minute and try again.'), 429);
    }
    const given = (await c.req.parseBody()).token;
    if (typeof given !== 'string' || !safeEqual(given, token)) {
      failures.add();
      return c.html(loginPage(c.get('csrf'), 'That token is not right.'), 401);
    }
    const exp = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
    setCookie(c, SESSION_COOKIE, `${exp}.${sign(exp)}`, {
      path: '/',
      httpOnly: true,
      sameSite: 'Strict',
      secure: c.req.url.startsWith('https:'),
      maxAge: SESSION_SECONDS,
    });
    return c.redirect('/', 303);
  });
  routes.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect(token ? '/login' : '/', 303);
  });
  return { middleware, routes };
}

function loginPage(csrf: string, problem?: string): string {
  return page(
    { title: 'Sign in', nav: 'none' },
    html`<section class="login">
  <h1>Sign in</h1>
  <p>This dashboard is protected by <code>SLUICE_DASHBOARD_TOKEN</code>.</p>
  ${problem ? html`<p class="alert bad" role="alert">${problem}</p>` : ''}
  <form method="post" action="/login">
    <input type="hidden" name="_csrf" value="${csrf}">
    <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
    <button type="submit">Sign in</button>
  </form>
</section>`,
  );
}

/** Events in the last windowMs: slows down guessing the token through the login form. */
function slidingCount(windowMs: number): { add(): void; recent(): number } {
  let times: number[] = [];
  return {
    add: () => {
      times.push(Date.now());
    },
    recent: () => {
      const since = Date.now() - windowMs;
      times = times.filter((t) => t > since);
      return times.length;
    },
  };
}
