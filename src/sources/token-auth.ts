// Bearer-token middleware for sluice's HTTP API (SLUICE_DASHBOARD_TOKEN). The
// token is compared in constant time; without a configured token the routes are
// open, which `sluice serve` allows only on a loopback address.
import type { MiddlewareHandler } from 'hono';
import { safeEqual } from '../tokens.ts';

/** True when the Authorization header carries exactly this bearer token. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && safeEqual(m[1]!, token);
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
