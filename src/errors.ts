// One error type for the whole pipeline. Code decides behaviour, never the class:
// errors that cross worker threads or Redis lose their prototype, so callers
// branch on `code`/`name` (see isRetryable) rather than on instanceof.

/** Permanent codes fail a document at once; transient ones are retried with backoff. */
export const ERROR_CODES = {
  UNSUPPORTED_TYPE: false,
  CORRUPT_FILE: false,
  ENCRYPTED: false,
  TOO_LARGE: false,
  NO_TEXT: false,
  LOW_QUALITY: false,
  TIMEOUT: false,
  INPUT_TOO_LONG: false,
  SOURCE_MISSING: false,
  NOT_A_FILE: false,
  PERMISSION_DENIED: false,
  INVALID_JOB: false,
  DIMENSION_MISMATCH: false,
  CONFIG_ERROR: false,
  /** The embedded database (SLUICE_HOME) is open in another process. */
  EMBEDDED_LOCKED: false,
  /** The embedded database was written by a newer sluice. */
  EMBEDDED_NEWER: false,
  /** SLUICE_HOME cannot be written. */
  EMBEDDED_UNWRITABLE: false,
  /** The embedded database's files are not a database PGlite can open. */
  EMBEDDED_CORRUPT: false,
  RATE_LIMITED: true,
  BUDGET_EXCEEDED: true,
  PROVIDER_ERROR: true,
  CONNECTION_ERROR: true,
  INTERNAL: true,
} as const satisfies Record<string, boolean>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SluiceErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Seconds the caller should wait before retrying (from Retry-After). */
  retryAfterSec?: number;
  details?: Record<string, unknown>;
}

export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterSec: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: SluiceErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? ERROR_CODES[code];
    this.retryAfterSec = opts.retryAfterSec;
    this.details = opts.details;
  }
}

/** Shape of an error once it has been serialised across a thread or process boundary. */
export interface ErrorLike {
  name?: string;
  code?: unknown;
  retryable?: unknown;
  message?: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The sluice error code of any thrown value; unknown errors are INTERNAL. */
export function errorCodeOf(err: unknown): ErrorCode {
  const e = err as ErrorLike | null;
  if (e && isErrorCode(e.code)) return e.code;
  if (isConnectionError(err)) return 'CONNECTION_ERROR';
  if (e && typeof e.code === 'string' && CONFLICT_CODES.has(e.code)) return 'CONNECTION_ERROR';
  return 'INTERNAL';
}

/** Socket-level failures reaching Postgres, Redis or a provider. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs of a Postgres (or pooler) that is there but refuses or drops this
 * connection for now: worth waiting for, never a fault of the document.
 */
const PG_CONNECTION_CODES = new Set([
  '53300', // too_many_connections: "sorry, too many clients already", role/database connection limits
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: "the database system is starting up" / "shutting down"
]);

/** Transaction conflicts: retried like a lost connection (historically classed with them). */
const CONFLICT_CODES = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

/** node-postgres and pg-pool errors that carry no code. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|no more connections allowed|server login has been failing/i;

/**
 * Whether err means "the database connection is refused, lost or not available
 * yet" (Postgres full or starting, a pooler refusing, a socket error, a
 * CONNECTION_ERROR), so the work should wait and retry rather than fail.
 * Looks through `cause` (wrapped errors) and works on errors that lost their
 * prototype crossing a thread or Redis.
 */
export function isConnectionError(err: unknown): boolean {
  for (let e = err as (ErrorLike & { cause?: unknown }) | null, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const code = e.code;
    if (code === 'CONNECTION_ERROR') return true;
    if (isErrorCode(code)) return false; // sluice classified it otherwise, deliberately
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || PG_CONNECTION_CODES.has(code)) return true;
      if (/^08[0-9A-Z]{3}$/.test(code)) return true; // class 08: connection exception (pgbouncer's errors too)
    }
    if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * Whether Redis refused a write because it is full (maxmemory reached under
 * noeviction): back-pressure from the queues, not a failure of the job's document.
 */
export function isRedisFull(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /\bOOM command not allowed/.test(message);
}

/**
 * The SQLSTATE of an error Postgres answered with, or undefined (a socket error's
 * errno name such as EPIPE is five letters too, but no SQLSTATE class starts with E).
 */
export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code) ? code : undefined;
}

/** Whether a failure is worth retrying. Unknown errors are retried (bounded by attempts). */
export function isRetryable(err: unknown): boolean {
  const e = err as ErrorLike | null;
  if (e && typeof e.retryable === 'boolean') return e.retryable;
  const code = errorCodeOf(err);
  return ERROR_CODES[code];
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  const e = err as ErrorLike | null;
  return typeof e?.message === 'string' ? e.message : String(err);
}
