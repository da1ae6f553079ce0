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

const SECRET_PATTERNS: RegExp[] = [
  /(\/\/[^:/@\s]*:)[^@\s]+@/g, // user:password@ in URLs (user may be empty: redis://:pw@)
  /\b(sk-[A-Za-z0-9_-]{8,})/g, // OpenAI-style keys
  /((?:api[_-]?key|token|password|secret)["'=:\s]+)[^\s"'&,]+/gi,
];

/** Removes credentials from free text. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  out = out.replace(SECRET_PATTERNS[0]!, '$1***@');
  out = out.replace(SECRET_PATTERNS[1]!, 'sk-***');
  out = out.replace(SECRET_PATTERNS[2]!, '$1***');
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
