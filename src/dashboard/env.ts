// Types and small helpers shared by the dashboard's middleware and routes.
import { createHash, timingSafeEqual } from 'node:crypto';

/** How a request was let in: open (loopback without a token), login cookie, or bearer token. */
export type AuthKind = 'open' | 'cookie' | 'bearer';

export interface DashEnv {
  Variables: {
    auth: AuthKind;
    /** This browser's CSRF token, for hidden form fields. */
    csrf: string;
  };
}

/** Constant-time string comparison (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Whether a bind address or Host header name is this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
