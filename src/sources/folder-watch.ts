// A watched folder: live events from chokidar (inotify/FSEvents, or polling for
// network mounts), an initial and a periodic full scan against stored state
// (every watcher loses events sometimes), the stability rule before anything is
// hashed, and deletions applied in batches through the guard. Any failure (lost
// Postgres or Redis) is logged once per episode and followed by a full
// reconcile with backoff, which catches up on whatever was missed.
import { stat } from 'node:fs/promises';
import { SluiceError } from '../errors.ts';
import { type ListedObject, markMissing, markSeen, markSeenUnder } from '../loaders/source-objects.ts';
import { recordSourceError } from '../loaders/sources.ts';
import { hashFile } from './files.ts';
import { keyOf, type ScanReport, scanFolder } from './folder-scan.ts';
import type { IgnoreRules } from './ignore.ts';
import { createStabilityTracker, type FileVersion } from './stability.ts';
import { applyDueDeletions, fullSync, isUnchanged, recordVersion, type SyncTarget } from './sync.ts';
import { createSerial, type SourceWatcher, type WatcherStats } from './watcher-base.ts';

export interface FolderWatchOptions {
  root: string;
  rules: IgnoreRules;
  stableMs: number;
  reconcileMs: number;
  polling: boolean;
  guard: number;
  graceMs: number;
}

/** Trees past this many files get a warning: live watching costs memory per folder and file. */
const LARGE_TREE = 100_000;

export function watchFolder(t: SyncTarget, opts: FolderWatchOptions): SourceWatcher {
  const { log, pool } = t.rt;
  const stats: WatcherStats = { scans: 0, hashed: 0, unchanged: 0, queued: 0, deleted: 0, held: 0 };
  const serial = createSerial((err) => onFailure(err));
  const maxBytes = t.rt.config.maxFileBytes;
  let closed = false;
  let scanSeq: number | undefined; // set while a full scan runs
  let retryMs = 1000;
  let retryTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let unlinkTimer: NodeJS.Timeout | undefined;
  let dirTimer: NodeJS.Timeout | undefined;
  let reconcileTimer: NodeJS.Timeout | undefined;
  let failing = false;
  const unlinked = new Set<string>();
  let watcher: import('chokidar').FSWatcher | undefined;
  let eventsLost = false;

  const seq = () => scanSeq ?? t.source.scan_seq;

  const onFailure = (err: unknown) => {
    if (closed) return;
    const msg = (err as Error).message;
    if (!failing) log.warn(`${t.source.uri}: ${msg}; retrying, then catching up with a full scan`);
    failing = true;
    void recordSourceError(pool, t.source.id, msg).catch(() => undefined);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void reconcile(), retryMs);
    retryMs = Math.min(retryMs * 2, 30_000);
  };

  const deletions = async () => {
    const r = await applyDueDeletions(t, opts);
    stats.deleted += r.deleted;
    stats.held += r.held;
    if (opts.graceMs > 0) {
      clearTimeout(graceTimer);
      graceTimer = setTimeout(() => serial.run(deletions), opts.graceMs + 50);
    }
  };

  const onStable = (path: string, v: FileVersion) =>
    serial.run(async () => {
      const o: ListedObject = { key: keyOf(opts.root, path), uri: path, ...v };
      if (await isUnchanged(t, o)) {
        stats.unchanged++;
        await markSeen(pool, t.source.id, [o.key], seq());
        return;
      }
      let hash: string | undefined;
      if (o.size <= maxBytes) {
        let notADocument = false;
        hash = await hashFile(path).catch((err: SluiceError) => {
          if (err.code === 'SOURCE_MISSING') return undefined;
          // A link, FIFO or unreadable file met by a live event: not a document, and no reason to rescan.
          if (err.code === 'NOT_A_FILE' || err.code === 'PERMISSION_DENIED') {
            log.warn(`${t.source.uri}: skipping ${path}: ${err.message}`);
            notADocument = true;
            return undefined;
          }
          throw err;
        });
        if (notADocument) return;
        stats.hashed++;
        const after = await stat(path).catch(() => undefined);
        // Changed or gone while hashed: look again once it settles (or let the unlink handle it).
        if (hash === undefined || !after || after.size !== v.size || after.mtimeMs !== v.mtimeMs) {
          if (after) tracker.track(path);
          return;
        }
      }
      await recordVersion(t, o, hash, seq());
      stats.queued++;
    });

  const tracker = createStabilityTracker({ stableMs: opts.stableMs, onStable });

  const scan = async () => {
    const report: ScanReport = { files: 0, unreadable: [], loops: [], links: [] };
    const listing = scanFolder({ root: opts.root, rules: opts.rules, onWarning: (m) => log.warn(m) }, report);
    const { seq: s } = await fullSync(t, withSeq(listing), async (o) => tracker.track(o.uri), {
      beforeFinish: (s2) => markSeenUnder(pool, t.source.id, report.unreadable, s2),
    }).finally(() => {
      scanSeq = undefined;
    });
    if (report.links.length > 0 && stats.scans === 0) {
      const some = report.links.slice(0, 5).join(', ');
      log.warn(
        `${t.source.uri}: ${report.links.length} symbolic link(s) not followed (${some}${report.links.length > 5 ? ', …' : ''}); ` +
          'watch the folders they point to instead',
      );
    }
    stats.scans++;
    if (report.files > LARGE_TREE && stats.scans === 1) {
      log.warn(
        `${t.source.uri}: ${report.files} files; live watching keeps state per folder and file. ` +
          'Consider watching subfolders separately or SLUICE_WATCH_POLLING=true with a longer interval.',
      );
    }
    log.debug(`${t.source.uri}: scan ${s} listed ${report.files} file(s)`);
    await deletions();
  };

  // Lets the live path know which listing it is inside of, once the sequence is allocated.
  async function* withSeq(listing: AsyncGenerator<ListedObject[]>): AsyncGenerator<ListedObject[]> {
    scanSeq = t.source.scan_seq + 1;
    yield* listing;
  }

  const reconcile = (): Promise<void> =>
    serial.run(async () => {
      try {
        await stat(opts.root);
      } catch (err) {
        throw new SluiceError(
          'CONFIG_ERROR',
          `watched folder ${opts.root} is not readable (${(err as NodeJS.ErrnoException).code}); nothing is deleted until it is back`,
        );
      }
      await scan();
      if (failing) log.info(`${t.source.uri}: caught up`);
      failing = false;
      retryMs = 1000;
    });

  const flushUnlinks = () =>
    serial.run(async () => {
      const gone: string[] = [];
      for (const path of unlinked) {
        const s = await stat(path).catch(() => undefined);
        if (!s?.isFile()) gone.push(keyOf(opts.root, path));
      }
      unlinked.clear();
      if (gone.length === 0) return;
      await markMissing(pool, t.source.id, gone);
      await deletions();
    });

  const relevant = (path: string) => !opts.rules.ignoresFile(keyOf(opts.root, path));

  const start = async () => {
    const { watch } = await import('chokidar');
    watcher = watch(opts.root, {
      ignoreInitial: true,
      followSymlinks: false, // links are not followed (see folder-scan.ts)
      usePolling: opts.polling,
      interval: 1000,
      binaryInterval: 2000,
      ignored: (path, s) => {
        const rel = keyOf(opts.root, path);
        return rel !== '' && (s?.isFile() ? opts.rules.ignoresFile(rel) : opts.rules.ignoresDir(rel));
      },
    });
    watcher.on('add', (p) => relevant(p) && tracker.track(p));
    watcher.on('change', (p) => relevant(p) && tracker.track(p));
    watcher.on('unlink', (p) => {
      tracker.forget(p);
      if (!relevant(p)) return;
      unlinked.add(p);
      clearTimeout(unlinkTimer);
      unlinkTimer = setTimeout(() => void flushUnlinks(), Math.max(200, Math.min(opts.stableMs, 2000)));
    });
    watcher.on('unlinkDir', () => {
      // A removed folder: a full scan settles everything under it (its files' unlinks flush too).
      clearTimeout(dirTimer);
      dirTimer = setTimeout(() => void reconcile(), Math.max(200, Math.min(opts.stableMs, 2000)));
    });
    watcher.on('error', (err) => {
      if (eventsLost) return;
      eventsLost = true;
      log.warn(
        `${t.source.uri}: live file events failed (${(err as Error).message}); changes are picked up by the full ` +
          'scan every SLUICE_WATCH_RECONCILE_MS (raise fs.inotify.max_user_watches or set SLUICE_WATCH_POLLING=true)',
      );
    });
    // Scan once live events flow (so nothing falls between the two), but never wait
    // forever: past an inotify limit chokidar reports an error and may not get ready.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      watcher!.once('ready', done);
      watcher!.once('error', done);
    });
    await reconcile();
    reconcileTimer = setInterval(() => void reconcile(), opts.reconcileMs);
  };

  const ready = start();
  return {
    ready,
    stats,
    reconcile,
    async idle() {
      await ready;
      for (;;) {
        await tracker.idle();
        await serial.idle();
        if (tracker.size === 0 && serial.pending === 0 && unlinked.size === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      closed = true;
      for (const timer of [retryTimer, graceTimer, unlinkTimer, dirTimer]) clearTimeout(timer);
      clearInterval(reconcileTimer);
      tracker.close();
      await ready.catch(() => undefined);
      await watcher?.close();
      await serial.idle();
    },
  };
}
