// CLI plumbing shared by every command: output streams, exit codes, error
// formatting and the config/runtime loading each command needs. Commands stay
// argument wiring only.
import { type Config, ConfigError, loadConfig, secretsFromEnv, secretsOf } from '../config.ts';
import { messageOf } from '../errors.ts';
import { createLogger, redact } from '../log.ts';
import { escapeControls, terminalSafeJson } from '../terminal-text.ts';

export const EXIT = { ok: 0, someFailed: 1, usage: 2 } as const;

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Raw stderr for the progress bar's own cursor controls; stdout/stderr escape every control character. */
  controls?: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CliIO {
  // Whatever a command prints (names, quoted errors, commander's own messages, logs)
  // reaches the terminal with its control characters escaped; output is multi-line by design.
  return {
    stdout: (s) => process.stdout.write(escapeControls(s, { keepNewlines: true })),
    stderr: (s) => process.stderr.write(escapeControls(s, { keepNewlines: true })),
    controls: (s) => process.stderr.write(s),
    isTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

export interface GlobalOpts {
  config?: string;
  verbose?: boolean;
  json?: boolean;
}

/** Carries an exit code through commander's action handlers. */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  readonly exitCode: number;
  constructor(exitCode: number, message = '') {
    super(message);
    this.exitCode = exitCode;
  }
}

export function readConfig(io: CliIO, g: GlobalOpts, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: io.env,
    cwd: io.cwd,
    ...(g.config ? { file: g.config } : {}),
    overrides,
  });
}

export function cliLogger(io: CliIO, config: Config, g: GlobalOpts) {
  return createLogger(g.verbose ? 'debug' : config.logLevel, {
    write: io.stderr,
    secrets: secretsOf(config),
  });
}

const PG_HINTS: Record<string, string> = {
  '42P01': 'the sluice schema is missing: run `sluice migrate` first',
  '3F000': 'the sluice schema is missing: run `sluice migrate` first',
  '3D000': 'that database does not exist: check DATABASE_URL',
  '28P01': 'password authentication failed: check DATABASE_URL',
  '28000': 'the server refused this user: check DATABASE_URL',
};

/** One clear line for an error: what failed and what to do. Stack only with --verbose. */
export function formatError(err: unknown, io: CliIO, g: GlobalOpts): string {
  if (err instanceof ConfigError) return err.message;
  const pgCode = (err as { code?: string }).code;
  let msg = messageOf(err);
  if (pgCode && PG_HINTS[pgCode]) msg = `Postgres: ${msg} (${PG_HINTS[pgCode]})`;
  // The stack's own first line repeats the message: print only its frames.
  const frames =
    g.verbose && err instanceof Error && err.stack
      ? err.stack.split('\n').filter((l) => /^\s+at /.test(l))
      : [];
  const stack = frames.length > 0 ? `\n${frames.join('\n')}` : '';
  return redact(`error: ${msg}${stack}`, secretsFromEnv(io.env));
}

export function writeJson(io: CliIO, value: unknown): void {
  io.stdout(`${terminalSafeJson(value, 2)}\n`);
}
