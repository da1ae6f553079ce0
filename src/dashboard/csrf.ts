// CSRF protection for cookie-authenticated (and open loopback) requests: a
// signed double-submit token. The XSRF-TOKEN cookie is readable by scripts on
// purpose: Bull Board's client mirrors it into an X-XSRF-TOKEN header, and our
// forms carry it in a hidden _csrf field. Bearer requests carry no ambient
// credentials, so they need no token.
import { createHmac, randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { safeEqual } from '../tokens.ts';
import type { DashEnv } from './env.ts';

export const CSRF_COOKIE = 'XSRF-TOKEN';
export const CSRF_HEADER = 'x-xsrf-token';
export const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_FORM_BYTES = 64 * 1024;

export interface Csrf {
  /** Makes sure the browser holds a valid token; exposes it as c.var.csrf for forms. */
  issue: MiddlewareHandler<DashEnv>;
  /** Refuses unsafe requests without a matching token (403). */
  verify: MiddlewareHandler<DashEnv>;
}

export function createCsrf(secret: Buffer): Csrf {
  const sign = (nonce: string) => createHmac('sha256', secret).update(`csrf.${nonce}`).digest('base64url');
  const mint = () => {
    const nonce = randomBytes(18).toString('base64url');
    return `${nonce}.${sign(nonce)}`;
  };
  const valid = (token: string | undefined): token is string => {
    if (!token) return false;
    const [nonce, mac, extra] = token.split('.');
    return !!nonce && !!mac && extra === undefined && safeEqual(mac, sign(nonce));
  };

  const issue: MiddlewareHandler<DashEnv> = async (c, next) => {
    let token = getCookie(c, CSRF_COOKIE);
    if (!valid(token)) {
      token = mint();
      setCookie(c, CSRF_COOKIE, token, { path: '/', sameSite: 'Strict', secure: isHttps(c.req.url) });
    }
    c.set('csrf', token);
    await next();
  };

  const verify: MiddlewareHandler<DashEnv> = async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || c.get('auth') === 'bearer') return next();
    if (c.req.header('sec-fetch-site') === 'cross-site' || !sameOrigin(c.req.header('origin'), c.req.url)) {
      return c.text('forbidden: cross-site request refused', 403);
    }
    const cookie = getCookie(c, CSRF_COOKIE);
    let sent = c.req.header(CSRF_HEADER);
    // The _csrf field is read only from small urlencoded forms (ours): a multipart upload is
    // never buffered here, so such requests carry the token in the X-XSRF-TOKEN header.
    const length = Number(c.req.header('content-length') ?? Number.NaN);
    const form = /^application\/x-www-form-urlencoded/.test(c.req.header('content-type') ?? '');
    if (!sent && form && length <= MAX_FORM_BYTES) {
      const field = (await c.req.parseBody())[CSRF_FIELD];
      sent = typeof field === 'string' ? field : undefined;
    }
    if (!valid(cookie) || !sent || !safeEqual(sent, cookie)) {
      return c.text('forbidden: missing or wrong CSRF token; reload the page and try again', 403);
    }
    return next();
  };

  return { issue, verify };
}

function isHttps(url: string): boolean {
  return url.startsWith('https:');
}

/** An Origin header, when sent, must name this server (browsers send it on every POST). */
function sameOrigin(origin: string | undefined, url: string): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === new URL(url).host;
  } catch {
    return false;
  }
}
