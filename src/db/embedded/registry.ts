// One embedded database per data directory per process, shared by every pool:
// opened on the first connection (checks, lock, then PGlite), closed when the
// last pool that used it ends. A data directory is never opened twice.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SluiceError } from '../../errors.ts';
import { takeLock } from './lock.ts';
import { checkMarker, writeMarker } from './marker.ts';
import type { EmbeddedDatabase } from './session.ts';

interface Entry {
  refs: number;
  opening?: Promise<Opened>;
}

interface Opened {
  db: EmbeddedDatabase;
  unlock: () => void;
}

const entries = new Map<string, Entry>();
/** Closes still in progress, so a reopen waits for them. */
const closing = new Map<string, Promise<void>>();

export interface EmbeddedHandle {
  /** The open database (opened on first call). */
  database(): Promise<EmbeddedDatabase>;
  /** This pool is done with it; the last one out closes it. */
  detach(): Promise<void>;
}

/** A reference to the embedded database of `dataDir`, counted until detach(). */
export function attach(dataDir: string): EmbeddedHandle {
  const entry = entries.get(dataDir) ?? { refs: 0 };
  entries.set(dataDir, entry);
  entry.refs++;
  let detached = false;
  return {
    database: async () => {
      entry.opening ??= open(dataDir);
      entry.opening.catch(() => {
        if (entries.get(dataDir) === entry) entry.opening = undefined; // retried by the next connect
      });
      return (await entry.opening).db;
    },
    detach: async () => {
      if (detached) return;
      detached = true;
      if (--entry.refs > 0) return;
      if (entries.get(dataDir) === entry) entries.delete(dataDir);
      const opening = entry.opening;
      if (!opening) return;
      const done = opening
        .then(async ({ db, unlock }) => {
          try {
            await db.close();
          } finally {
            unlock();
          }
        })
        .catch(() => undefined)
        .finally(() => closing.delete(dataDir));
      closing.set(dataDir, done);
      await done;
    },
  };
}

async function open(dataDir: string): Promise<Opened> {
  await closing.get(dataDir);
  const home = dirname(dataDir);
  ensureWritable(home, dataDir);
  const unlock = takeLock(home, dataDir);
  try {
    checkMarker(home, dataDir);
    checkLooksLikeData(dataDir);
    const { openDatabase } = await import('./session.ts');
    const pidFile = join(dataDir, 'postmaster.pid');
    const hadPidFile = existsSync(pidFile);
    const db = await openDatabase(dataDir).catch((err: unknown) => {
      // PGlite writes postmaster.pid as it starts: a failed start leaves the files as they were.
      if (!hadPidFile) rmSync(pidFile, { force: true });
      const message = (err as Error)?.message ?? String(err);
      throw corrupt(dataDir, /^Aborted\(/.test(message) ? 'PostgreSQL aborted reading it' : message, err);
    });
    writeMarker(home);
    return { db, unlock };
  } catch (err) {
    unlock();
    throw err;
  }
}

function ensureWritable(home: string, dataDir: string): void {
  try {
    mkdirSync(home, { recursive: true });
    accessSync(home, constants.W_OK);
    if (existsSync(dataDir)) accessSync(dataDir, constants.W_OK);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new SluiceError(
      'EMBEDDED_UNWRITABLE',
      `cannot write the embedded database at ${dataDir} (${reason}): make ${home} writable, or set SLUICE_HOME to a writable directory`,
      { cause: err },
    );
  }
}

/** A data directory with files in it but no PG_VERSION is not PGlite's: never initdb over it. */
function checkLooksLikeData(dataDir: string): void {
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) return;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) throw corrupt(dataDir, 'it has no PG_VERSION file');
}

function corrupt(dataDir: string, reason: string, cause?: unknown): SluiceError {
  return new SluiceError(
    'EMBEDDED_CORRUPT',
    `the embedded database at ${dataDir} cannot be opened (${reason.split('\n')[0]}): ` +
      'move it aside and run again to start a new one, or restore it from a backup',
    cause === undefined ? {} : { cause },
  );
}
