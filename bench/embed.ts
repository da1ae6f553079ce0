// `npm run bench:embed`: how much of a tokens-per-window budget sluice's embed
// path actually uses, against the protocol test server with 100 ms latency,
// compared in the same run with LangChain's OpenAIEmbeddings (default settings)
// on the same inputs. The window is scaled down from a minute (BENCH_WINDOW_MS)
// so a run takes seconds; the ratio is what matters.
//
// Utilisation: with B tokens per W ms, the fastest any client can send T tokens
// is B at once, then B every W, so its last request goes out (ceil(T/B) − 1)·W
// after its first. Utilisation is that ideal span over the measured one (first
// to last request as the server saw them): 1.0 is the budget fully used. Client
// start-up (tokenising the corpus) is before the first request and reported apart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { OpenAIEmbeddings } from '@langchain/openai';
import { createOpenAIEmbedder } from '../src/embedders/openai.ts';
import { createEmbedService } from '../src/queue/embed-service.ts';
import { createRateLimiter } from '../src/queue/rate-limit.ts';
import { startEmbedServer } from '../test/helpers/embed-server.ts';

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 6000);
const BUDGET = Number(process.env.BENCH_TOKENS_PER_WINDOW ?? 300_000);
const LATENCY_MS = 100;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY = 'sk-bench-not-a-real-key';
const MODEL = 'text-embedding-3-small';

const VOCAB = (
  'ingest pipeline vector chunk token budget window request latency retry batch queue worker ' +
  'document section table figure result method dataset model search index query answer context'
).split(' ');

/** ~`tokens`-token pseudo-prose, deterministic, varied enough to tokenise realistically. */
function corpus(n: number, tokens: number): string[] {
  let x = 7;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, (_, i) => {
    const words = [`Document ${i}.`];
    for (let w = 0; w < tokens * 0.9; w++)
      words.push(next() % 9 === 0 ? `${next() % 1000}` : VOCAB[next() % VOCAB.length]!);
    return words.join(' ');
  });
}

interface RunResult {
  name: string;
  ok: boolean;
  error?: string;
  elapsedMs: number;
  tokens: number;
  requests: number;
  status429: number;
  status400: number;
  /** Tokens per minute over the request span, and the budget's own rate. */
  tokensPerMin: number;
  budgetPerMin: number;
  startupMs: number;
  utilisation: number;
}

async function measure(
  name: string,
  texts: string[],
  embed: (url: string) => Promise<unknown>,
): Promise<RunResult> {
  const server = await startEmbedServer({
    apiKey: KEY,
    latencyMs: LATENCY_MS,
    windowMs: WINDOW_MS,
    tokensPerWindow: BUDGET,
    maxRequestTokens: 300_000,
    maxInputs: 2048,
  });
  const t0 = Date.now();
  let error: string | undefined;
  try {
    await embed(server.openaiBaseUrl);
  } catch (err) {
    error = (err as Error).message.slice(0, 200);
  }
  const elapsedMs = Date.now() - t0;
  if (process.env.BENCH_DEBUG)
    console.error(name, JSON.stringify(server.requests.map((r) => [r.at - t0, r.tokens, r.status])));
  await server.close();
  const ok200 = server.requests.filter((r) => r.status === 200);
  const tokens = ok200.reduce((n, r) => n + r.tokens, 0);
  const first = server.requests[0]?.at ?? t0;
  const last = ok200.at(-1)?.at ?? first;
  const spanMs = Math.max(1, last - first);
  const idealMs = (Math.ceil(tokens / BUDGET) - 1) * WINDOW_MS;
  return {
    name,
    ok: error === undefined && ok200.reduce((n, r) => n + r.inputs, 0) >= texts.length,
    ...(error ? { error } : {}),
    elapsedMs,
    tokens,
    requests: server.requests.length,
    status429: server.requests.filter((r) => r.status === 429).length,
    status400: server.requests.filter((r) => r.status === 400).length,
    tokensPerMin: Math.round((tokens / spanMs) * 60_000),
    budgetPerMin: Math.round((BUDGET / WINDOW_MS) * 60_000),
    startupMs: first - t0,
    utilisation: Math.min(1, idealMs / spanMs),
  };
}

async function main() {
  const texts = corpus(Number(process.env.BENCH_TEXTS ?? 2600), 400);
  const prefix = `bench-embed-${Date.now().toString(36)}`;

  const sluice = await measure('sluice', texts, async (baseUrl) => {
    const embedder = await createOpenAIEmbedder({ apiKey: KEY, baseUrl, model: MODEL });
    const limiter = createRateLimiter({
      redis: REDIS_URL,
      prefix,
      key: `openai:${MODEL}`,
      tokensPerWindow: BUDGET,
      windowMs: WINDOW_MS,
    });
    const svc = createEmbedService({ embedder, limiter });
    // Many documents embedding at once, as concurrent embed jobs would.
    const docs = Array.from({ length: Math.ceil(texts.length / 20) }, (_, i) =>
      texts.slice(i * 20, i * 20 + 20),
    );
    try {
      await Promise.all(docs.map((d) => svc.embedMany(d)));
      console.error('sluice service stats', svc.stats(), 'limiter', limiter.stats());
    } finally {
      await svc.close();
      await limiter.close();
    }
  });

  const langchain = await measure('langchain', texts, async (baseUrl) => {
    const lc = new OpenAIEmbeddings({ apiKey: KEY, model: MODEL, configuration: { baseURL: baseUrl } });
    const deadline = AbortSignal.timeout(Number(process.env.BENCH_LANGCHAIN_TIMEOUT_MS ?? 180_000));
    await Promise.race([
      lc.embedDocuments(texts),
      new Promise((_, reject) => deadline.addEventListener('abort', () => reject(new Error('timed out')))),
    ]);
  });

  const result = {
    at: new Date().toISOString(),
    setup: {
      windowMs: WINDOW_MS,
      tokensPerWindow: BUDGET,
      latencyMs: LATENCY_MS,
      texts: texts.length,
      model: MODEL,
    },
    runs: [sluice, langchain],
    ratio: langchain.ok && langchain.utilisation > 0 ? sluice.utilisation / langchain.utilisation : null,
    target: 0.9,
    meetsTarget: sluice.ok && sluice.utilisation >= 0.9,
  };
  for (const r of result.runs) {
    console.log(
      `${r.name.padEnd(10)} ${r.ok ? 'ok    ' : 'FAILED'} ${(r.elapsedMs / 1000).toFixed(1)} s  ${r.tokens} tokens  ` +
        `${r.requests} requests (${r.status429}×429, ${r.status400}×400)  start-up ${r.startupMs} ms  ` +
        `utilisation ${(r.utilisation * 100).toFixed(1)}%` +
        (r.error ? `  error: ${r.error}` : ''),
    );
  }
  console.log(
    `sluice / langchain utilisation: ${result.ratio === null ? 'n/a (langchain did not finish)' : result.ratio.toFixed(2)}`,
  );
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/embed-${result.at.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file.pathname}`);
  process.exit(result.meetsTarget ? 0 : 1);
}

await main();
