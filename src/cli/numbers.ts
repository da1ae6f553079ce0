// The one parser for numeric flags and arguments of every command: digits only,
// within a stated range, or a one-line usage error (exit 2) naming the flag, the
// range and what was typed. `Number()` alone took "abc" as NaN and "-1" as a value.
import { MAX_TIMER_MS } from '../config.ts';
import { EXIT, ExitError } from './io.ts';

/** Longest --timeout in seconds a Node timer can wait. */
export const MAX_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** A whole number from min to max, or ExitError(2): `error: --timeout must be a whole number from 1 to … (got "abc")`. */
export function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ExitError(
      EXIT.usage,
      `error: ${flag} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`,
    );
  }
  return n;
}

/** As wholeNumber, for an optional flag: undefined stays undefined. */
export function optionalWholeNumber(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  return value === undefined ? undefined : wholeNumber(value, flag, min, max);
}

/** A TCP port (0 lets the system pick one). */
export function parsePort(value: string, flag: string): number {
  return wholeNumber(value, flag, 0, 65_535);
}

/** --timeout <seconds> of the commands that wait. */
export function timeoutSeconds(value: string | undefined): number | undefined {
  return optionalWholeNumber(value, '--timeout', 1, MAX_TIMEOUT_SECONDS);
}

/** --concurrency <n>: jobs per stage at once (SLUICE_CONCURRENCY's range). */
export function concurrency(value: string | undefined): number | undefined {
  return optionalWholeNumber(value, '--concurrency', 1, 1000);
}
