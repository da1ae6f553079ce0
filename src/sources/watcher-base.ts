// What every source watcher (folder, bucket) shares: the handle the CLI and tests
// hold, its counters, and a serial runner so a full scan and live events never
// interleave their reads and writes of the stored state.

export interface WatcherStats {
  /** Complete listings done. */
  scans: number;
  /** Files read to compute their content hash (unchanged files are never hashed). */
  hashed: number;
  /** Files that settled but matched their stored (size, mtime, inode). */
  unchanged: number;
  /** Versions recorded (new or changed) and queued. */
  queued: number;
  deleted: number;
  held: number;
}

export interface SourceWatcher {
  /** Resolves once the first full scan has been attempted. */
  ready: Promise<void>;
  stats: WatcherStats;
  /** A full listing against stored state now (queued behind any work in progress). */
  reconcile(): Promise<void>;
  /** Resolves when nothing is pending: no file settling, no work queued. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface Serial {
  /** Runs fn after everything queued before it; a failure goes to onError, never rejects. */
  run(fn: () => Promise<void>): Promise<void>;
  readonly pending: number;
  idle(): Promise<void>;
}

export function createSerial(onError: (err: unknown) => void): Serial {
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  return {
    run(fn) {
      pending++;
      tail = tail
        .then(fn)
        .catch(onError)
        .finally(() => {
          pending--;
        });
      return tail;
    },
    get pending() {
      return pending;
    },
    idle() {
      return tail;
    },
  };
}
