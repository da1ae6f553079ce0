// The lock that keeps a second process out of an embedded data directory: two
// processes opening one PGlite data directory corrupt it (pglite#1106). The
// lock file names the holder's PID and command; it is created atomically (a
// complete file hard-linked into place), removed at close or exit, and a lock
// whose process is gone (a crash, kill -9) is taken over.
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../../errors.ts';

export interface LockHolder {
  pid: number;
  command: string;
}

/** The lock file of a SLUICE_HOME. */
export function lockPath(home: string): string {
  return join(home, 'lock');
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    return typeof v.pid === 'number' ? { pid: v.pid, command: String(v.command ?? '?') } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Takes the lock of `home` for this process, or throws EMBEDDED_LOCKED naming
 * the process that holds it. Returns the function that releases it.
 */
export function takeLock(home: string, dataDir: string): () => void {
  const path = lockPath(home);
  const own: LockHolder = { pid: process.pid, command: process.argv.slice(1).join(' ') };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(own)}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      }
      const holder = readHolder(path);
      if (holder?.pid === process.pid) break; // ours already (another pool of this process)
      if (holder && isAlive(holder.pid)) throw lockedError(holder, dataDir);
      // A dead holder's (or an unreadable, half-gone) lock: take it over.
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  } finally {
    unlinkSync(tmp);
  }
  const release = () => {
    process.off('exit', release);
    if (readHolder(path)?.pid === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', release);
  return release;
}

function lockedError(holder: LockHolder, dataDir: string): SluiceError {
  return new SluiceError(
    'EMBEDDED_LOCKED',
    `the embedded database at ${dataDir} is in use by process ${holder.pid} (${holder.command}): ` +
      'wait for it to finish or stop it, or use another SLUICE_HOME, or set DATABASE_URL to a Postgres server',
    { details: { pid: holder.pid, command: holder.command } },
  );
}
