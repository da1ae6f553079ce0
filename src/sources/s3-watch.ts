// A watched S3 prefix: ListObjectsV2 (paginated) every SLUICE_S3_POLL_MS, diffed
// against stored state on ETag and size. Objects are written atomically, so no
// stability wait is needed, and nothing is downloaded to decide what changed.
// Deletions come only from a listing that reached its end without error.
import { messageOf } from '../errors.ts';
import type { ListedObject } from '../loaders/source-objects.ts';
import { recordSourceError } from '../loaders/sources.ts';
import type { IgnoreRules } from './ignore.ts';
import { listS3, parseS3Uri, s3VersionHash } from './s3.ts';
import type { S3Settings } from './s3-client.ts';
import { applyDueDeletions, fullSync, recordVersion, type SyncTarget } from './sync.ts';
import { createSerial, type SourceWatcher, type WatcherStats } from './watcher-base.ts';

export interface S3WatchOptions {
  settings: S3Settings;
  rules: IgnoreRules;
  pollMs: number;
  guard: number;
  graceMs: number;
}

/** One complete pass over the prefix: new and changed objects queued, then deletions (guarded). */
export async function syncS3Once(
  t: SyncTarget,
  opts: Omit<S3WatchOptions, 'pollMs'>,
  stats: WatcherStats,
): Promise<void> {
  const loc = parseS3Uri(t.source.uri);
  const max = t.rt.config.maxFileBytes;
  async function* relevant(): AsyncGenerator<ListedObject[]> {
    for await (const page of listS3(opts.settings, loc)) {
      yield page.filter((o) => !opts.rules.ignoresFile(o.key.slice(loc.key.length).replace(/^\/+/, '')));
    }
  }
  await fullSync(t, relevant(), async (o, seq) => {
    await recordVersion(t, o, o.size > max ? undefined : s3VersionHash(o.etag ?? '', o.size), seq);
    stats.queued++;
  });
  stats.scans++;
  const r = await applyDueDeletions(t, opts);
  stats.deleted += r.deleted;
  stats.held += r.held;
}

export function watchS3(t: SyncTarget, opts: S3WatchOptions): SourceWatcher {
  const { log } = t.rt;
  const stats: WatcherStats = { scans: 0, hashed: 0, unchanged: 0, queued: 0, deleted: 0, held: 0 };
  let failing = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const serial = createSerial((err) => {
    if (closed) return;
    const msg = messageOf(err);
    // One line per episode, not one per poll.
    if (!failing) log.warn(`${t.source.uri}: ${msg}; nothing is deleted until a listing completes`);
    failing = true;
    void recordSourceError(t.rt.pool, t.source.id, msg).catch(() => undefined);
  });
  const reconcile = () =>
    serial.run(async () => {
      await syncS3Once(t, opts, stats);
      if (failing) log.info(`${t.source.uri}: listing works again`);
      failing = false;
    });
  const loop = async () => {
    await reconcile();
    if (!closed) timer = setTimeout(() => void loop(), failing ? Math.min(opts.pollMs, 5000) : opts.pollMs);
  };
  const ready = loop();
  return {
    ready,
    stats,
    reconcile,
    async idle() {
      await ready;
      await serial.idle();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await serial.idle();
    },
  };
}
