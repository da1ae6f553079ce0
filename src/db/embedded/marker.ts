// A small file next to the embedded data directory saying which format of it
// this sluice writes (PGlite's PostgreSQL major version and our layout). An
// older sluice finding a newer format stops, touching nothing, instead of
// letting an older PGlite loose on files it cannot read.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../../errors.ts';

/** Bump when a sluice release changes what it writes there (a new PGlite major version, a new layout). */
export const EMBEDDED_FORMAT = 1;

export function markerPath(home: string): string {
  return join(home, 'format.json');
}

/** Throws EMBEDDED_NEWER when the data directory was written in a format this sluice does not know. */
export function checkMarker(home: string, dataDir: string): void {
  const path = markerPath(home);
  if (!existsSync(path)) return;
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown }).format;
  } catch {
    format = undefined;
  }
  if (typeof format === 'number' && format <= EMBEDDED_FORMAT) return;
  throw new SluiceError(
    'EMBEDDED_NEWER',
    `the embedded database at ${dataDir} was written by a newer sluice (format ${String(format)}, this one reads ${EMBEDDED_FORMAT}): ` +
      'upgrade sluice, or use another SLUICE_HOME',
  );
}

/** Records the format once the data directory opened (created, or an existing one of ours). */
export function writeMarker(home: string): void {
  const path = markerPath(home);
  if (existsSync(path)) return;
  writeFileSync(path, `${JSON.stringify({ format: EMBEDDED_FORMAT, postgres: 18 })}\n`);
}
