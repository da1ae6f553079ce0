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
  /** As sent; '' when absent. */
  model: string;
  inputs: number;
  tokens: number;
  /** Largest single input, in cl100k tokens. */
  maxInputTokens: number;
  status: number;
  /** ok | auth | model | too-many-inputs | input-too-long | request-too-long | budget | storm | injected-500 | bad-request */
  reason: string;
}

export interface EmbedServer {
  /** http://127.0.0.1:<port>, the Ollama host; openaiBaseUrl is `${url}/v1`. */
  url: string;
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
const record = (at: number, protocol: RecordedRequest['protocol']): RecordedRequest => ({
  at,
  protocol,
  model: '',
  inputs: 0,
  tokens: 0,
  maxInputTokens: 0,
  status: 0,
  reason: '',
});

type Body = Partial<Record<'model' | 'input' | 'dimensions' | 'encoding_format' | 'truncate', unknown>>;

let encoder: ReturnType<typeof getEncoding> | undefined;
/** cl100k_base token count, as the server measures it. */
export function serverTokens(text: string): number {
  encoder ??= getEncoding('cl100k_base');
  return encoder.encode(text).length;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

type Budget = Array<{ at: number; tokens: number }>;

/** Milliseconds until the window admits `tokens` more, or 0 if it does now. */
function budgetWait(admitted: Budget, o: EmbedServerOptions, at: number, tokens: number): number {
  const windowMs = o.windowMs ?? 60_000;
  while (admitted.length > 0 && admitted[0]!.at <= at - windowMs) admitted.shift();
  const maxR = o.requestsPerWindow ?? Infinity;
  const maxT = o.tokensPerWindow ?? Infinity;
  let used = admitted.reduce((n, a) => n + a.tokens, 0);
  if (admitted.length + 1 <= maxR && used + tokens <= maxT) return 0;
  for (const [i, a] of admitted.entries()) {
    used -= a.tokens;
    if (admitted.length - i <= maxR && used + tokens <= maxT) return Math.max(1, a.at + windowMs - at);
  }
  return windowMs;
}

/** The per-request limit a request breaks, as [reason, message]. */
function limitBroken(
  o: EmbedServerOptions,
  rec: RecordedRequest,
  mayTruncate: boolean,
): [string, string] | undefined {
  const [maxInputs, maxInput, maxRequest] = [
    o.maxInputs ?? 2048,
    o.maxInputTokens ?? 8192,
    o.maxRequestTokens ?? 300_000,
  ];
  if (rec.inputs > maxInputs)
    return ['too-many-inputs', `'input' has ${rec.inputs} items; at most ${maxInputs}`];
  if (rec.maxInputTokens > maxInput && !mayTruncate) {
    return ['input-too-long', `This model's maximum context length is ${maxInput} tokens`];
  }
  if (rec.tokens > maxRequest)
    return ['request-too-long', `${rec.tokens} tokens requested, max ${maxRequest} per request`];
  return undefined;
}

/** Starts the server on an ephemeral port. */
export async function startEmbedServer(initial: EmbedServerOptions = {}): Promise<EmbedServer> {
  let o: EmbedServerOptions = { ...initial };
  // A Weyl sequence: deterministic per seed and evenly spread, so "10% errors" means 10%.
  let draws = 0;
  const random = () => (Math.imul((o.seed ?? 1) + draws++, 0x9e3779b1) >>> 0) / 2 ** 32;
  const requests: RecordedRequest[] = [];
  const admitted: Budget = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    const path = (req.url ?? '').split('?')[0] ?? '';
    const protocol = path.endsWith('/embeddings') ? 'openai' : path === '/api/embed' ? 'ollama' : 'unknown';
    const rec = record(at, protocol);
    requests.push(rec);
    const send = async (status: number, reason: string, body: unknown, headers?: Record<string, string>) => {
      Object.assign(rec, { status, reason });
      if (o.latencyMs) await sleep(o.latencyMs);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, reason: string, message: string, headers?: Record<string, string>) => {
      const body = protocol === 'ollama' ? { error: message } : { error: { message, type: reason } };
      return send(status, reason, body, headers);
    };
    const retryHeaders = (sec: number): Record<string, string> => {
      if (o.retryAfter === 'none') return {};
      if (o.retryAfter === 'date') return { 'retry-after': new Date(Date.now() + sec * 1000).toUTCString() };
      return { 'retry-after': String(sec >= 1 ? Math.ceil(sec) : Math.ceil(sec * 10) / 10) };
    };

    if (req.method !== 'POST' || protocol === 'unknown') return fail(404, 'model', `no route ${path}`);
    const auth = req.headers.authorization ?? '';
    if (protocol === 'openai' && o.apiKey !== undefined && auth !== `Bearer ${o.apiKey}`) {
      // Echo the key back, as careless servers do, so clients are tested for redaction.
      return fail(401, 'auth', `Incorrect API key provided: ${auth.replace(/^Bearer /, '')}.`);
    }
    const body = (await readBody(req).catch(() => undefined)) as Body | undefined;
    const input = typeof body?.input === 'string' ? [body.input] : body?.input;
    if (!body || !Array.isArray(input) || input.some((t) => typeof t !== 'string' || t === '')) {
      return fail(400, 'bad-request', "'input' must be a non-empty string or array of non-empty strings");
    }
    const texts = input as string[];
    const model = typeof body.model === 'string' ? body.model : '';
    rec.model = model;
    const native = (o.models ?? DEFAULT_MODELS)[model];
    if (native === undefined) {
      const ollama = `model "${model}" not found, try pulling it first`;
      return fail(404, 'model', protocol === 'ollama' ? ollama : `The model \`${model}\` does not exist.`);
    }
    let dims = native;
    if (typeof body.dimensions === 'number') {
      if (!FLEXIBLE.includes(model))
        return fail(400, 'bad-request', 'This model does not support dimensions.');
      dims = Math.min(native, body.dimensions);
    }
    const counts = texts.map(serverTokens);
    Object.assign(rec, { inputs: texts.length, tokens: counts.reduce((a, b) => a + b, 0) });
    rec.maxInputTokens = Math.max(0, ...counts);
    const broken = limitBroken(o, rec, protocol === 'ollama' && body.truncate !== false);
    if (broken) return fail(400, ...broken);
    if ((o.rateLimitNext ?? 0) > 0) {
      o.rateLimitNext = (o.rateLimitNext ?? 0) - 1;
      return fail(429, 'storm', 'Rate limit reached (storm)', retryHeaders(o.stormRetryAfterSec ?? 1));
    }
    const waitMs = budgetWait(admitted, o, at, rec.tokens);
    if (waitMs > 0)
      return fail(429, 'budget', 'Rate limit reached for this window', retryHeaders(waitMs / 1000));
    if (o.errorRate && random() < o.errorRate) return fail(500, 'injected-500', 'The server had an error');
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
      if (patch.seed !== undefined) draws = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
