// The one place configuration is read: environment variables and an optional
// sluice.config.{json,yaml}, validated by a single zod schema. Env wins over the
// file. Every invalid value is reported at once, named as the user wrote it.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { embeddedDataDir, embeddedUrl, isEmbeddedUrl } from './db/embedded/url.ts';

/** Node's timers hold at most 2^31-1 ms; a longer delay overflows and fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Messages of the number builders below: loadConfig adds the value given (numbers are never secrets). */
const RANGE_MESSAGES = new Set<string>();

/** A number in [min, max] (whole unless `fraction`); the error states the range. */
const num = (min: number, max: number, unit = '', fraction = false) => {
  const error = `must be ${fraction ? 'a number' : 'a whole number'} from ${min} to ${max}${unit}`;
  RANGE_MESSAGES.add(error);
  const n = z.coerce.number({ error }).min(min, { error }).max(max, { error });
  return fraction ? n : n.int({ error });
};
const int = (min: number, max: number, unit = '') => num(min, max, unit);
/** A duration in milliseconds: a floor that keeps Redis and Postgres from being polled in a busy loop, at most MAX_TIMER_MS. */
const ms = (min: number, max = MAX_TIMER_MS) => int(min, max, ' (milliseconds)');
const GIB = 1024 ** 3;
/** Letters, digits, _ . - and at most one {hash tag} (Redis Cluster hashes only the tag). */
const QUEUE_PREFIX = /^[A-Za-z0-9_.-]*(\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.-]*$/;
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** Env variable → config key. Names may grow; these keep their meaning (DESIGN.md). */
export const ENV_KEYS = {
  DATABASE_URL: 'databaseUrl',
  SLUICE_HOME: 'sluiceHome',
  SLUICE_DIRECT_DATABASE_URL: 'directDatabaseUrl',
  SLUICE_PG_POOL_MAX: 'pgPoolMax',
  REDIS_URL: 'redisUrl',
  SLUICE_REDIS_CLUSTER: 'redisCluster',
  SLUICE_REDIS_CA_FILE: 'redisCaFile',
  SLUICE_EMBEDDER: 'embedder',
  SLUICE_EMBED_MODEL: 'embedModel',
  SLUICE_EMBED_DIMENSIONS: 'embedDimensions',
  OPENAI_API_KEY: 'openaiApiKey',
  OPENAI_BASE_URL: 'openaiBaseUrl',
  OLLAMA_HOST: 'ollamaHost',
  SLUICE_CHUNK_SIZE: 'chunkSize',
  SLUICE_CHUNK_OVERLAP: 'chunkOverlap',
  SLUICE_MAX_FILE_BYTES: 'maxFileBytes',
  SLUICE_MAX_PAGES: 'maxPages',
  SLUICE_MAX_DECOMPRESSED_BYTES: 'maxDecompressedBytes',
  SLUICE_EXTRACT_TIMEOUT_MS: 'extractTimeoutMs',
  SLUICE_READ_TIMEOUT_MS: 'readTimeoutMs',
  SLUICE_EXTRACT_BYTES_IN_FLIGHT: 'extractBytesInFlight',
  SLUICE_EXTRACT_MEMORY_MB: 'extractMemoryMb',
  SLUICE_EXTRACT_THREADS: 'extractThreads',
  SLUICE_DASHBOARD_TOKEN: 'dashboardToken',
  SLUICE_COLLECTION: 'collection',
  SLUICE_QUEUE_PREFIX: 'queuePrefix',
  SLUICE_ATTEMPTS: 'attempts',
  SLUICE_BACKOFF_MS: 'backoffMs',
  SLUICE_LOCK_DURATION_MS: 'lockDurationMs',
  SLUICE_STALLED_INTERVAL_MS: 'stalledIntervalMs',
  SLUICE_CONCURRENCY: 'concurrency',
  SLUICE_LOG_LEVEL: 'logLevel',
  SLUICE_LOCAL_MODEL_DIR: 'localModelDir',
  SLUICE_EMBED_TRUNCATE: 'embedTruncate',
  SLUICE_FAULT_INJECTION: 'faultInjection',
  SLUICE_EMBED_RPM: 'embedRequestsPerMin',
  SLUICE_EMBED_TPM: 'embedTokensPerMin',
  SLUICE_MODEL_CACHE_DIR: 'modelCacheDir',
  SLUICE_ACCEPT_LOW_QUALITY: 'acceptLowQuality',
  SLUICE_MAX_ATTACHMENTS: 'maxAttachments',
  SLUICE_MAX_ATTACHMENT_DEPTH: 'maxAttachmentDepth',
  SLUICE_EMBED_BUDGET_TOKENS: 'embedBudgetTokens',
  SLUICE_EMBED_PRICE_PER_MTOK: 'embedPricePerMTok',
  SLUICE_WATCH_STABLE_MS: 'watchStableMs',
  SLUICE_WATCH_RECONCILE_MS: 'watchReconcileMs',
  SLUICE_WATCH_POLLING: 'watchPolling',
  SLUICE_WATCH_INCLUDE: 'watchInclude',
  SLUICE_WATCH_EXCLUDE: 'watchExclude',
  SLUICE_S3_POLL_MS: 's3PollMs',
  SLUICE_S3_PATH_STYLE: 's3PathStyle',
  SLUICE_S3_SQS_URL: 's3SqsUrl',
  AWS_REGION: 'awsRegion',
  AWS_ENDPOINT_URL_S3: 's3Endpoint',
  AWS_ENDPOINT_URL: 'awsEndpoint',
  SLUICE_DELETE_GUARD: 'deleteGuard',
  SLUICE_DELETE_GRACE_MS: 'deleteGraceMs',
  SLUICE_INBOX: 'inbox',
  SLUICE_OCR: 'ocr',
  SLUICE_OCR_LANGS: 'ocrLangs',
  SLUICE_OCR_PAGE_TIMEOUT_MS: 'ocrPageTimeoutMs',
  SLUICE_OCR_MAX_PAGES: 'ocrMaxPages',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'otelEndpoint',
} as const;

type ConfigKey = (typeof ENV_KEYS)[keyof typeof ENV_KEYS];

export const configSchema = z.object({
  /** A server's URL; unset: the embedded database under sluiceHome (see loadConfig). */
  databaseUrl: z.string().url().optional(),
  /** Where local state lives (the embedded database); relative paths are resolved against the cwd. */
  sluiceHome: z.string().min(1).default('.sluice'),
  /**
   * A direct (or session-pooled) Postgres URL for what needs one session for a
   * while: migrations and index builds. Set it when DATABASE_URL is a
   * transaction pooler (PgBouncer pool_mode=transaction, Neon/Supabase pooled URLs).
   */
  directDatabaseUrl: z.string().url().optional(),
  /**
   * Postgres connections per process (workers, ingest); workers × this must fit
   * max_connections. At least 3: an index build holds a lock on one, builds on
   * another and watches the build on a third.
   */
  pgPoolMax: int(3, 100).default(10),
  /**
   * Where the queues live: set, Redis; unset, BullMQ's PostgreSQL backend in the
   * DATABASE_URL database (queue/backend.ts).
   */
  redisUrl: z
    .string()
    .url()
    .pipe(z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// (TLS) URL'))
    .optional(),
  /** REDIS_URL names one node of a Redis Cluster; the others are discovered from it. */
  redisCluster: bool.default(false),
  /** PEM file of the CA that signed the Redis server's TLS certificate (rediss:// only). */
  redisCaFile: z.string().min(1).optional(),
  embedder: z.enum(['hash', 'openai', 'ollama', 'local']).default('hash'),
  embedModel: z.string().min(1).optional(),
  embedDimensions: int(1, 16_000).optional(),
  openaiApiKey: z.string().min(1).optional(),
  openaiBaseUrl: z.string().url().default('https://api.openai.com/v1'),
  ollamaHost: z.string().url().default('http://127.0.0.1:11434'),
  chunkSize: int(50, 100_000).default(1000),
  chunkOverlap: int(0, 50_000).default(150),
  maxFileBytes: int(1, 64 * GIB, ' (bytes)').default(100 * 1024 * 1024),
  maxPages: int(1, 1_000_000).default(5000),
  maxDecompressedBytes: int(1, 64 * GIB, ' (bytes)').default(512 * 1024 * 1024),
  extractTimeoutMs: ms(100).default(120_000),
  /** Reading one source file (opening it included) must finish within this; a stuck read fails TIMEOUT. */
  readTimeoutMs: ms(100).default(60_000),
  /** Source bytes the extract stage of one process holds at once; bigger files wait (one runs alone). */
  extractBytesInFlight: int(1, 64 * GIB, ' (bytes)').default(64 * 1024 * 1024),
  extractMemoryMb: int(32, 16_384, ' (MB)').default(768),
  extractThreads: int(1, 64).default(2),
  dashboardToken: z.string().min(8).optional(),
  collection: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/)
    .default('default'),
  /** Namespace of every Redis key; `{name}` (a hash tag) keeps them in one Redis Cluster slot. */
  queuePrefix: z
    .string()
    .min(1)
    .max(64)
    .regex(QUEUE_PREFIX, 'expected letters, digits, "_", "." or "-", optionally one {hash tag}')
    .default('sluice'),
  attempts: int(1, 100).default(6),
  backoffMs: ms(10).default(1000),
  lockDurationMs: ms(1000).default(30_000),
  stalledIntervalMs: ms(1000).default(30_000),
  concurrency: int(1, 1000).default(4),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  localModelDir: z.string().optional(),
  embedTruncate: bool.default(false),
  /** Test hook: "<stage>:<before|after>:<ms>" pauses a stage so tests can kill a worker inside it. */
  faultInjection: z
    .string()
    .regex(/^(extract|chunk|embed|load):(before|after):\d+$/)
    .optional(),
  /** Shared budget of the configured embedding provider+model (unset: no client-side limit). */
  embedRequestsPerMin: int(1, 10_000_000).optional(),
  embedTokensPerMin: int(1, 10_000_000_000).optional(),
  /** Cache for downloaded local model weights. */
  modelCacheDir: z.string().optional(),
  /** Index documents the quality gate judges garbage instead of failing them LOW_QUALITY. */
  acceptLowQuality: bool.default(false),
  /** Attachments of one mail message indexed as documents of their own; the rest are listed, not indexed. */
  maxAttachments: int(0, 1000).default(100),
  /** How deep attachments of attachments (a forwarded .eml inside an .eml...) are followed. */
  maxAttachmentDepth: int(0, 20).default(3),
  /** Tokens the embed stage may send per collection per UTC day (unset: no budget). */
  embedBudgetTokens: int(1, 1_000_000_000_000).optional(),
  /** Price per million tokens of the configured model, overriding the built-in table. */
  embedPricePerMTok: num(0, 10_000, ' (dollars per million tokens)', true).optional(),
  /** A watched file is enqueued once its size and mtime stayed unchanged this long. */
  watchStableMs: ms(0).default(2000),
  /** Full reconcile of a watched folder against stored state (watchers miss events sometimes). */
  watchReconcileMs: ms(1000).default(10 * 60_000),
  /** Poll the file system instead of inotify/FSEvents (network mounts). */
  watchPolling: bool.default(false),
  /** Comma-separated globs, relative to the watched folder: only these / never these. */
  watchInclude: z.string().optional(),
  watchExclude: z.string().optional(),
  s3PollMs: ms(1000).default(60_000),
  s3PathStyle: bool.optional(),
  /** SQS queue receiving the bucket's S3 event notifications: changes are listed at once. */
  s3SqsUrl: z.string().url().optional(),
  awsRegion: z.string().min(1).optional(),
  s3Endpoint: z.string().url().optional(),
  awsEndpoint: z.string().url().optional(),
  /** Hold deletions when one scan would delete more than this share of a source (0-1, or "20%"). */
  deleteGuard: z
    .union([z.number(), z.string().regex(/^\d+(\.\d+)?%?$/)])
    .transform((v) =>
      typeof v === 'number' ? v : v.endsWith('%') ? Number(v.slice(0, -1)) / 100 : Number(v),
    )
    .pipe(z.number().min(0).max(1))
    .default(0.2),
  deleteGraceMs: ms(0).default(0),
  /** Where uploads are stored: a folder, or s3://bucket/prefix (default ./sluice-inbox). */
  inbox: z.string().min(1).default('sluice-inbox'),
  /** OCR for PDF pages without a text layer: off, or auto (only those pages). */
  ocr: z.enum(['off', 'auto']).default('off'),
  /** Tesseract languages joined by '+', each an installed @tesseract.js-data/<code> package. */
  ocrLangs: z
    .string()
    .regex(/^[a-z_]{2,16}(\+[a-z_]{2,16})*$/, 'expected tesseract codes joined by "+", e.g. eng or eng+deu')
    .default('eng'),
  ocrPageTimeoutMs: ms(1000).default(60_000),
  ocrMaxPages: int(1, 10_000).default(50),
  /** OTLP/HTTP base URL: when set, workers export one span per stage run. */
  otelEndpoint: z.string().url().optional(),
});

/** Settings after loadConfig: databaseUrl is always set (a server's, or the embedded one's). */
export type Config = Omit<z.infer<typeof configSchema>, 'databaseUrl'> & { databaseUrl: string };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_ERROR';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

const CONFIG_FILES = ['sluice.config.json', 'sluice.config.yaml', 'sluice.config.yml'];

function readConfigFile(cwd: string, explicit?: string): { path?: string; values: Record<string, unknown> } {
  const candidates = explicit ? [resolve(cwd, explicit)] : CONFIG_FILES.map((f) => resolve(cwd, f));
  for (const path of candidates) {
    if (!existsSync(path)) {
      if (explicit) throw new ConfigError([`config file ${path} does not exist`]);
      continue;
    }
    const text = readFileSync(path, 'utf8');
    let values: unknown;
    try {
      values = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new ConfigError([`${path}: ${(err as Error).message.split('\n')[0]}`]);
    }
    if (values === null || values === undefined) return { path, values: {} };
    if (typeof values !== 'object' || Array.isArray(values)) {
      throw new ConfigError([`${path}: expected a mapping of settings`]);
    }
    return { path, values: values as Record<string, unknown> };
  }
  return { values: {} };
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Explicit config file (SLUICE_CONFIG or --config). */
  file?: string;
  /** Highest-priority values, e.g. from CLI flags. */
  overrides?: Partial<Record<ConfigKey, unknown>>;
}

/** Loads and validates configuration; throws ConfigError listing every problem. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = readConfigFile(cwd, opts.file ?? env.SLUICE_CONFIG);
  const knownKeys = new Set<string>(Object.values(ENV_KEYS));
  const problems: string[] = [];
  const source: Record<string, string> = {};
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.values)) {
    if (!knownKeys.has(key)) {
      problems.push(`${file.path}: unknown setting "${key}"`);
      continue;
    }
    merged[key] = value;
    source[key] = `${file.path}: ${key}`;
  }
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      source[key] = name;
    }
  }
  for (const [key, value] of Object.entries(opts.overrides ?? {})) {
    if (value !== undefined) {
      merged[key] = value;
      source[key] = `--${key}`;
    }
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const envName = Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0];
      const name = source[key] ?? envName ?? key;
      // Numbers are safe to echo (never secrets); other values may be URLs with passwords.
      const problem = RANGE_MESSAGES.has(issue.message)
        ? `${name} ${issue.message}, got ${JSON.stringify(String(merged[key]))}`
        : `${name}: ${issue.message}`;
      // One value can break several checks (not whole and too big): say it once.
      if (!problems.includes(problem)) problems.push(problem);
    }
  }
  if (parsed.success && parsed.data.chunkOverlap >= parsed.data.chunkSize) {
    problems.push(
      `SLUICE_CHUNK_OVERLAP (${parsed.data.chunkOverlap}) must be smaller than SLUICE_CHUNK_SIZE (${parsed.data.chunkSize})`,
    );
  }
  if (parsed.success) clusterPrefix(parsed.data, source.queuePrefix, problems);
  if (parsed.success) redisSettingsWithoutRedis(parsed.data, source, problems);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return withDatabaseUrl(parsed.data, cwd);
}

/**
 * SLUICE_HOME made absolute (against the cwd), and with no DATABASE_URL the
 * embedded database's URL, so that a server URL and the embedded one flow alike.
 */
function withDatabaseUrl(parsed: z.infer<typeof configSchema>, cwd: string): Config {
  const sluiceHome = resolve(cwd, parsed.sluiceHome);
  return {
    ...parsed,
    sluiceHome,
    databaseUrl: parsed.databaseUrl ?? embeddedUrl(resolve(sluiceHome, 'pgdata')),
  };
}

/**
 * On a Redis Cluster every key of a queue must hash to one slot, so the prefix needs a
 * hash tag: the default becomes {sluice}; a prefix the user chose without one is a problem.
 */
function clusterPrefix(
  config: { redisCluster: boolean; queuePrefix: string },
  setBy: string | undefined,
  problems: string[],
): void {
  if (!config.redisCluster || /\{[^}]+\}/.test(config.queuePrefix)) return;
  if (setBy === undefined) {
    config.queuePrefix = `{${config.queuePrefix}}`;
    return;
  }
  problems.push(
    `${setBy}: "${config.queuePrefix}" has no {hash tag}, which a Redis Cluster (SLUICE_REDIS_CLUSTER) needs so a queue's keys share one slot; use "{${config.queuePrefix}}"`,
  );
}

/** Redis settings with REDIS_URL unset would be ignored (the queues go to Postgres): said, not ignored. */
function redisSettingsWithoutRedis(
  config: Pick<Config, 'redisUrl' | 'redisCluster' | 'redisCaFile'>,
  source: Record<string, string | undefined>,
  problems: string[],
): void {
  if (config.redisUrl !== undefined) return;
  const set: Array<[boolean, string]> = [
    [config.redisCluster, source.redisCluster ?? 'SLUICE_REDIS_CLUSTER'],
    [config.redisCaFile !== undefined, source.redisCaFile ?? 'SLUICE_REDIS_CA_FILE'],
  ];
  for (const [on, name] of set) {
    if (on)
      problems.push(
        `${name} is set but REDIS_URL is not: set REDIS_URL to queue on Redis, or remove ${name} to queue in Postgres`,
      );
  }
}

/** A URL with its password (and user info secrets) replaced, safe for logs and errors. */
export function redactUrl(url: string): string {
  if (isEmbeddedUrl(url)) return embeddedName(url);
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

/** How messages name the embedded database: by its data directory. */
function embeddedName(url: string): string {
  return `embedded database at ${embeddedDataDir(url)}`;
}

/** Host:port of a URL for error messages, without credentials (the embedded database: its path). */
export function hostOf(url: string): string {
  if (isEmbeddedUrl(url)) return embeddedName(url);
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? '6379' : '5432')}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** Where a database is, for a status line: "at host:port", or "embedded database at <path>". */
export function whereDatabase(url: string): string {
  return isEmbeddedUrl(url) ? hostOf(url) : `at ${hostOf(url)}`;
}

/** Values that must never appear in a log line or an error: keys, tokens, URL passwords. */
export function secretsOf(c: {
  openaiApiKey?: string | undefined;
  dashboardToken?: string | undefined;
  databaseUrl?: string | undefined;
  directDatabaseUrl?: string | undefined;
  redisUrl?: string | undefined;
}): string[] {
  const secrets = [c.openaiApiKey, c.dashboardToken];
  for (const url of [c.databaseUrl, c.directDatabaseUrl, c.redisUrl]) {
    try {
      const p = url ? new URL(url).password : '';
      if (p) secrets.push(decodeURIComponent(p));
    } catch {
      // not a URL: nothing to hide
    }
  }
  return secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

/** The same secrets read straight from the environment, for errors raised before config is valid. */
export function secretsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return secretsOf({
    openaiApiKey: env.OPENAI_API_KEY,
    dashboardToken: env.SLUICE_DASHBOARD_TOKEN,
    databaseUrl: env.DATABASE_URL,
    directDatabaseUrl: env.SLUICE_DIRECT_DATABASE_URL,
    redisUrl: env.REDIS_URL,
  });
}
