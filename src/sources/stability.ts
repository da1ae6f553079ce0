// The stability rule: a file is handed on only once its size and mtime have
// stayed the same for `stableMs`. It applies alike to files found by a scan and
// to live events (chokidar's awaitWriteFinish does not hold files found by the
// first scan), so a file still being written is never ingested half-done.
import { stat } from 'node:fs/promises';

export interface FileVersion {
  size: number;
  mtimeMs: number;
  /** dev:ino, so a file replaced by another of the same size and mtime still counts as changed. */
  inode: string;
}

interface Pending extends FileVersion {
  since: number;
}

export interface StabilityTracker {
  /** Starts (or restarts) watching a path; `onStable` fires once it stops changing. */
  track(path: string): void;
  forget(path: string): void;
  readonly size: number;
  /** Resolves once nothing is pending (for tests and orderly shutdown). */
  idle(): Promise<void>;
  close(): void;
}

export function versionOf(s: { size: number; mtimeMs: number; dev: number; ino: number }): FileVersion {
  return { size: s.size, mtimeMs: s.mtimeMs, inode: `${s.dev}:${s.ino}` };
}

export function createStabilityTracker(opts: {
  stableMs: number;
  onStable: (path: string, v: FileVersion) => void;
  /** A tracked file vanished before it settled. */
  onGone?: (path: string) => void;
  now?: () => number;
}): StabilityTracker {
  const now = opts.now ?? Date.now;
  const pending = new Map<string, Pending | null>();
  // Check often enough to notice the quiet period ending without burning CPU.
  const tickMs = Math.max(25, Math.min(500, Math.floor(opts.stableMs / 4)));
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let idleWaiters: (() => void)[] = [];

  const settle = () => {
    if (pending.size > 0 || running) return;
    for (const w of idleWaiters) w();
    idleWaiters = [];
  };

  const look = async (path: string, seen: Pending | null | undefined, t: number) => {
    const s = await stat(path).catch(() => undefined);
    if (!pending.has(path)) return; // forgotten meanwhile
    if (!s?.isFile()) {
      pending.delete(path);
      opts.onGone?.(path);
      return;
    }
    const v = versionOf(s);
    const same = seen && seen.size === v.size && seen.mtimeMs === v.mtimeMs && seen.inode === v.inode;
    if (!same) {
      pending.set(path, { ...v, since: t });
      return;
    }
    // Unchanged since `since`, or not written for stableMs already (mtime is older): stable.
    if (t - seen.since >= opts.stableMs || t - v.mtimeMs >= opts.stableMs + tickMs) {
      pending.delete(path);
      opts.onStable(path, v);
    }
  };

  const check = async () => {
    running = true;
    const t = now();
    const entries = [...pending];
    // 64 stats at a time: a first scan may hand over a whole tree of new files.
    for (let i = 0; i < entries.length; i += 64) {
      await Promise.all(entries.slice(i, i + 64).map(([path, seen]) => look(path, seen, t)));
    }
    running = false;
    schedule();
    settle();
  };

  const schedule = () => {
    if (timer || running || pending.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, tickMs);
    timer.unref?.();
  };

  return {
    track(path) {
      // null: first look at the next tick (its size may still be moving).
      pending.set(path, null);
      schedule();
    },
    forget(path) {
      pending.delete(path);
      settle();
    },
    get size() {
      return pending.size;
    },
    idle() {
      if (pending.size === 0 && !running) return Promise.resolve();
      return new Promise((r) => idleWaiters.push(r));
    },
    close() {
      clearTimeout(timer);
      pending.clear();
      settle();
    },
  };
}
