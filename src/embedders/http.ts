// Shared HTTP plumbing for network embedders: one fetch with a timeout and caller
// cancellation, and one mapping from HTTP status to SluiceError so every provider
// fails the same way. 429/5xx are retryable; 4xx are configuration problems that
// retrying cannot fix, so they stop the embed stage instead of failing documents.
import { SluiceError } from '../errors.ts';

export interface PostJsonOptions {
  /** Provider id for messages (openai, ollama). */
  provider: string;
  model: string;
  headers?: Record<string, string>;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Values that must never appear in an error message (API keys). */
  secrets?: string[];
  /** Extra advice for a 404, e.g. "run `ollama pull <model>`". */
  notFoundHint?: string;
  /**
   * The setting that names this server (e.g. OPENAI_BASE_URL), while no request to it
   * has succeeded yet: then "connection refused" or an unknown host is a wrong
   * setting, reported at once as CONFIG_ERROR instead of retried for minutes.
   */
  unreachableSetting?: string | undefined;
  /** Called when the server answers at all (any HTTP status). */
  onAnswer?: () => void;
}

/** Connection failures that, before any request has got through, mean a wrong URL. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Parses a Retry-After header: delay-seconds or an HTTP date. Returns seconds
 * (never negative) or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}

/** Replaces secrets, and anything shaped like an API key, with ***. */
export function redactSecrets(text: string, secrets: string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out.replace(/\b(sk|pk|key)-[A-Za-z0-9_*-]{6,}/g, '$1-***');
}

/** The provider's own error text from a JSON or plain body, trimmed for messages. */
function providerMessage(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const e = json.error;
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
      return (e as { message: string }).message;
    }
    if (typeof json.message === 'string') return json.message;
    if (typeof json.detail === 'string') return json.detail;
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 300);
}

const TOO_LONG = /context length|too long|too many tokens|maximum.*tokens|exceeds.*(length|limit)/i;

/** Maps a non-2xx response to a SluiceError with a message that says what to fix. */
export function httpError(
  status: number,
  body: string,
  headers: Headers,
  opts: PostJsonOptions,
): SluiceError {
  const said = redactSecrets(providerMessage(body), opts.secrets);
  const where = `${opts.provider} (model "${opts.model}")`;
  const retryAfterSec = parseRetryAfter(headers.get('retry-after'));
  const details = { status, provider: opts.provider, model: opts.model };
  if (status === 429) {
    return new SluiceError('RATE_LIMITED', `${where} rate limit reached: ${said}`, {
      retryAfterSec,
      details,
    });
  }
  if (status >= 500 || status === 408 || status === 409) {
    return new SluiceError('PROVIDER_ERROR', `${where} server error ${status}: ${said}`, {
      retryable: true,
      retryAfterSec,
      details,
    });
  }
  if ((status === 400 || status === 413 || status === 422) && TOO_LONG.test(said)) {
    return new SluiceError('INPUT_TOO_LONG', `${where} rejected an input as too long: ${said}`, { details });
  }
  const problem =
    status === 401
      ? // Keep a word after OPENAI_API_KEY out: log redaction would take it for the key's value.
        'the API key was rejected; set the right key for this server in OPENAI_API_KEY'
      : status === 403
        ? 'the API key is not allowed to use this model or endpoint'
        : status === 404
          ? `the model or endpoint was not found (check SLUICE_EMBED_MODEL and the base URL)${opts.notFoundHint ? `; ${opts.notFoundHint}` : ''}`
          : `the request was rejected (status ${status})`;
  return new SluiceError('CONFIG_ERROR', `${where}: ${problem}. Provider said: ${said}`, {
    retryable: false,
    details,
  });
}

/**
 * POSTs JSON and returns the parsed JSON body. Network failures and timeouts become
 * retryable PROVIDER_ERRORs; caller aborts propagate as AbortError untouched.
 */
export async function postJson(url: string, body: unknown, opts: PostJsonOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const timedOut = timeout.aborted;
    const cause = (err as { cause?: { code?: string } }).cause;
    const why = timedOut
      ? `timed out after ${opts.timeoutMs ?? 60_000} ms`
      : `failed: ${cause?.code ?? (err as Error).message}`;
    if (!timedOut && opts.unreachableSetting && UNREACHABLE.has(cause?.code ?? '')) {
      throw new SluiceError(
        'CONFIG_ERROR',
        `${opts.provider} server at ${new URL(url).host} cannot be reached (${cause?.code}): ` +
          `check ${opts.unreachableSetting} and that the server is running`,
        { retryable: false, cause: err },
      );
    }
    throw new SluiceError('PROVIDER_ERROR', `${opts.provider} request to ${new URL(url).host} ${why}`, {
      retryable: true,
      cause: err,
    });
  }
  opts.onAnswer?.();
  const text = await res.text();
  if (!res.ok) throw httpError(res.status, text, res.headers, opts);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SluiceError('PROVIDER_ERROR', `${opts.provider} returned a body that is not JSON`, {
      retryable: true,
    });
  }
}
