// Types and small helpers shared by the dashboard's middleware and routes.

/** How a request was let in: open (loopback without a token), login cookie, or bearer token. */
export type AuthKind = 'open' | 'cookie' | 'bearer';

export interface DashEnv {
  Variables: {
    auth: AuthKind;
    /** This browser's CSRF token, for hidden form fields. */
    csrf: string;
  };
}
