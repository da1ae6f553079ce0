// Minimal leveled logger to stderr. Messages pass through redact() so a URL with
// a password or an API key never reaches a log line, and escapeControls() so a
// file name in a message cannot drive the terminal.
import { escapeControls, terminalSafeJson } from './terminal-text.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

// Each pattern keeps its group 1 (what names the secret) and hides the rest.
const SECRET_PATTERNS: RegExp[] = [
  // user:password@ in URLs (user may be empty: redis://:pw@)
  /(\/\/[^:/@\s]*:)[^@\s]+(?=@)/g,
  // OpenAI-style keys: sk-..., sk-proj-...
  /(\bsk-)[A-Za-z0-9_-]{8,}/g,
  // Authorization headers
  /(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  // key=value and "key": "value" pairs. The separator is required, so prose such as
  // Postgres' "password authentication failed" or "tokens used" stays as written.
  /((?:api[_-]?key|access[_-]?key|token|password|passwd|pwd|secret)["']?\s*[=:]\s*["']?)[^\s"'&,;]+/gi,
];

/** Removes credentials from free text: known secret values, URL passwords, API keys, key=value secrets. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '$1***');
  return out;
}

export function createLogger(
  level: LogLevel,
  opts: { secrets?: readonly string[]; write?: (line: string) => void; json?: boolean } = {},
): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${terminalSafeJson(fields)}` : '';
    const line = opts.json
      ? terminalSafeJson({ t: new Date().toISOString(), level: lvl, msg, ...fields })
      : `${new Date().toISOString()} ${lvl.padEnd(5)} ${escapeControls(msg, { keepNewlines: true })}${extra}`;
    write(`${redact(line, opts.secrets)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
