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
  INVALID_JOB: false,
  DIMENSION_MISMATCH: false,
  CONFIG_ERROR: false,
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
  if (e && typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'CONNECTION_ERROR';
  return 'INTERNAL';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** SQLSTATEs of a server that is going away, restarting or full of connections (besides class 08). */
const UNREACHABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']);

/**
 * Whether an error says a server could not be reached or the connection to it was
 * lost (Postgres connection exceptions, shutdown, too many connections; refused,
 * reset or timed-out sockets), looking through `cause` too. Such a failure is the
 * outage's, not the document's.
 */
export function isConnectionError(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null, depth = 0;
    e && depth < 5;
    depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (/^08[0-9A-Z]{3}$/.test(code) || UNREACHABLE_SQLSTATES.has(code) || UNREACHABLE_ERRNOS.has(code))
      return true;
    // node-postgres says so in words only: a cut connection, and a client left unusable by one.
    if (
      typeof e.message === 'string' &&
      /Connection terminated|connection error and is not queryable/i.test(e.message)
    )
      return true;
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
