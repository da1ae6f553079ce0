// A real HTTP server for embedding tests and benchmarks. It speaks OpenAI's
// POST /v1/embeddings and Ollama's POST /api/embed, returns deterministic vectors
// (hashVector), and enforces a provider's limits the way the real ones do:
// inputs and tokens per request, tokens per input, a requests/tokens budget per
// window answered with 429 + Retry-After, bad keys, unknown models, injected 500s
// and latency. Every request is recorded so tests can assert on the traffic.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { getEncoding } from 'js-tiktoken';
import { hashVector } from '../../src/embedders/hash.ts';

export interface EmbedServerOptions {
  /** Bearer token the OpenAI route requires; undefined accepts any. */
  apiKey?: string | undefined;
  /** Served models and their native widths (defaults: OpenAI's three, nomic-embed-text, acme-embed-v1: 256). */
  models?: Record<string, number>;
  /** Models that accept a smaller `dimensions` (default text-embedding-3-*, nomic-embed-text). */
  flexibleModels?: string[];
  maxInputs?: number;
  maxInputTokens?: number;
  maxRequestTokens?: number;
  requestsPerWindow?: number | undefined;
  tokensPerWindow?: number | undefined;
  /** Budget window (default 60,000 ms). */
  windowMs?: number;
  /** How Retry-After is written on 429 (default seconds). */
  retryAfter?: 'seconds' | 'date' | 'none';
  /** The next N requests get 429 regardless of budget: a 429 storm. */
  rateLimitNext?: number;
  /** Retry-After for storm 429s, in seconds (default 1). */
  stormRetryAfterSec?: number;
  /** Fraction of otherwise good requests answered 500. */
  errorRate?: number;
  /** Delay before every response. */
  latencyMs?: number;
  /** Seed for the error-rate random sequence (default 1). */
  seed?: number;
}

/** One request as the server saw it. */
export interface RecordedRequest {
  at: number;
  protocol: 'openai' | 'ollama' | 'unknown';
  model: string | undefined;
  inputs: number;
  tokens: number;
  /** Largest single input, in cl100k tokens. */
  maxInputTokens: number;
  status: number;
  /** ok | auth | model | too-many-inputs | input-too-long | request-too-long | budget | storm | injected-500 | bad-request */
  reason: string;
}

export interface EmbedServer {
  /** http://127.0.0.1:<port> (Ollama host). */
  url: string;
  /** `${url}/v1` (OPENAI_BASE_URL). */
  openaiBaseUrl: string;
  requests: RecordedRequest[];
  setOptions(patch: Partial<EmbedServerOptions>): void;
  close(): Promise<void>;
}

const DEFAULT_MODELS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'nomic-embed-text': 768,
  'acme-embed-v1': 256,
};
const FLEXIBLE = ['text-embedding-3-small', 'text-embedding-3-large', 'nomic-embed-text'];

let encoder: ReturnType<typeof getEncoding> | undefined;
/** cl100k_base token count, as the server measures it. */
export function serverTokens(text: string): number {
  encoder ??= getEncoding('cl100k_base');
  return encoder.encode(text).length;
}

// mulberry32: small seeded PRNG so injected failures repeat run to run.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

/** Starts the server on an ephemeral port. */
export async function startEmbedServer(initial: EmbedServerOptions = {}): Promise<EmbedServer> {
  let o: EmbedServerOptions = { ...initial };
  let random = prng(o.seed ?? 1);
  const requests: RecordedRequest[] = [];
  const admitted: Array<{ at: number; tokens: number }> = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    const path = (req.url ?? '').split('?')[0] ?? '';
    const protocol = path.endsWith('/embeddings') ? 'openai' : path === '/api/embed' ? 'ollama' : 'unknown';
    const rec: RecordedRequest = {
      at,
      protocol,
      model: undefined,
      inputs: 0,
      tokens: 0,
      maxInputTokens: 0,
      status: 200,
      reason: 'ok',
    };
    requests.push(rec);
    const send = async (
      status: number,
      reason: string,
      body: unknown,
      headers: Record<string, string> = {},
    ) => {
      rec.status = status;
      rec.reason = reason;
      if (o.latencyMs) await sleep(o.latencyMs);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, reason: string, message: string, headers?: Record<string, string>) =>
      send(
        status,
        reason,
        protocol === 'ollama' ? { error: message } : { error: { message, type: reason } },
        headers,
      );

    if (req.method !== 'POST' || protocol === 'unknown') return fail(404, 'model', `no route ${path}`);
    if (
      protocol === 'openai' &&
      o.apiKey !== undefined &&
      req.headers.authorization !== `Bearer ${o.apiKey}`
    ) {
      // Echo the key back, as careless servers do, so clients are tested for redaction.
      const got = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      return fail(401, 'auth', `Incorrect API key provided: ${got}.`);
    }
    let body: {
      model?: unknown;
      input?: unknown;
      dimensions?: unknown;
      encoding_format?: unknown;
      truncate?: unknown;
    };
    try {
      body = (await readBody(req)) as typeof body;
    } catch {
      return fail(400, 'bad-request', 'body is not JSON');
    }
    const model = typeof body.model === 'string' ? body.model : undefined;
    rec.model = model;
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(input) || input.some((t) => typeof t !== 'string' || t === '')) {
      return fail(400, 'bad-request', "'input' must be a non-empty string or array of non-empty strings");
    }
    const texts = input as string[];
    const native = model === undefined ? undefined : (o.models ?? DEFAULT_MODELS)[model];
    if (native === undefined) {
      return fail(
        404,
        'model',
        protocol === 'ollama'
          ? `model "${model}" not found, try pulling it first`
          : `The model \`${model}\` does not exist or you do not have access to it.`,
      );
    }
    let dims = native;
    if (typeof body.dimensions === 'number') {
      if (!(o.flexibleModels ?? FLEXIBLE).includes(model!)) {
        return fail(400, 'bad-request', 'This model does not support specifying dimensions.');
      }
      dims = Math.min(native, body.dimensions);
    }
    const counts = texts.map(serverTokens);
    rec.inputs = texts.length;
    rec.tokens = counts.reduce((a, b) => a + b, 0);
    rec.maxInputTokens = Math.max(0, ...counts);
    if (texts.length > (o.maxInputs ?? 2048)) {
      return fail(
        400,
        'too-many-inputs',
        `'input' has ${texts.length} items; at most ${o.maxInputs ?? 2048} allowed`,
      );
    }
    if (
      rec.maxInputTokens > (o.maxInputTokens ?? 8192) &&
      !(protocol === 'ollama' && body.truncate !== false)
    ) {
      return fail(
        400,
        'input-too-long',
        `This model's maximum context length is ${o.maxInputTokens ?? 8192} tokens`,
      );
    }
    if (rec.tokens > (o.maxRequestTokens ?? 300_000)) {
      return fail(
        400,
        'request-too-long',
        `Requested ${rec.tokens} tokens, max ${o.maxRequestTokens ?? 300_000} tokens per request`,
      );
    }
    const retryHeaders = (sec: number): Record<string, string> =>
      o.retryAfter === 'none'
        ? {}
        : o.retryAfter === 'date'
          ? { 'retry-after': new Date(Date.now() + sec * 1000).toUTCString() }
          : { 'retry-after': String(sec >= 1 ? Math.ceil(sec) : Math.ceil(sec * 10) / 10) };
    if ((o.rateLimitNext ?? 0) > 0) {
      o.rateLimitNext = (o.rateLimitNext ?? 0) - 1;
      return fail(429, 'storm', 'Rate limit reached (storm)', retryHeaders(o.stormRetryAfterSec ?? 1));
    }
    const windowMs = o.windowMs ?? 60_000;
    while (admitted.length > 0 && admitted[0]!.at <= at - windowMs) admitted.shift();
    const usedTokens = admitted.reduce((n, a) => n + a.tokens, 0);
    const overR = o.requestsPerWindow !== undefined && admitted.length + 1 > o.requestsPerWindow;
    const overT = o.tokensPerWindow !== undefined && usedTokens + rec.tokens > o.tokensPerWindow;
    if (overR || overT) {
      let freed = 0;
      let waitMs = windowMs;
      for (const [i, a] of admitted.entries()) {
        freed += a.tokens;
        const okR = o.requestsPerWindow === undefined || admitted.length - (i + 1) + 1 <= o.requestsPerWindow;
        const okT = o.tokensPerWindow === undefined || usedTokens - freed + rec.tokens <= o.tokensPerWindow;
        if (okR && okT) {
          waitMs = a.at + windowMs - at;
          break;
        }
      }
      return fail(
        429,
        'budget',
        `Rate limit reached: ${overT ? 'tokens' : 'requests'} per window`,
        retryHeaders(waitMs / 1000),
      );
    }
    if (o.errorRate && random() < o.errorRate)
      return fail(500, 'injected-500', 'The server had an error (injected)');
    admitted.push({ at, tokens: rec.tokens });
    const vectors = texts.map((t) => hashVector(t, dims));
    if (protocol === 'ollama') {
      return send(200, 'ok', {
        model,
        embeddings: vectors.map((v) => Array.from(v)),
        prompt_eval_count: rec.tokens,
      });
    }
    const b64 = body.encoding_format === 'base64';
    return send(200, 'ok', {
      object: 'list',
      model,
      data: vectors.map((v, index) => ({
        object: 'embedding',
        index,
        embedding: b64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v),
      })),
      usage: { prompt_tokens: rec.tokens, total_tokens: rec.tokens },
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    requests,
    setOptions(patch) {
      o = { ...o, ...patch };
      if (patch.seed !== undefined) random = prng(patch.seed);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
