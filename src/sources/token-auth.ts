// Bearer-token middleware for sluice's HTTP API (SLUICE_DASHBOARD_TOKEN). The
// token is compared in constant time; without a configured token the routes are
// open, which `sluice serve` allows only on a loopback address.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the Authorization header carries exactly this bearer token. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  // Hashing both sides gives equal lengths, so the comparison time says nothing about the token.
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

export function bearerAuth(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token !== undefined && !tokenMatches(c.req.header('authorization'), token)) {
      c.header('WWW-Authenticate', 'Bearer realm="sluice"');
      return c.json(
        { error: 'a valid bearer token is required (Authorization: Bearer $SLUICE_DASHBOARD_TOKEN)' },
        401,
      );
    }
    await next();
  };
}

/** Whether a bind address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
