// `sluice watch` behind the CLI: turns each argument into a source row, checks
// that it can be read (one clear line naming it otherwise), and runs one
// watcher per source under a Postgres lease, so several `sluice watch`
// processes can run and exactly one syncs each source; a standby takes over
// when the active one stops renewing its lease.
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Config } from '../config.ts';
import { SluiceError } from '../errors.ts';
import { acquireLease, ensureSource, releaseLease, type SourceKind } from '../loaders/sources.ts';
import type { Runtime } from '../queue/runtime.ts';
import { watchFolder } from './folder-watch.ts';
import { globList, ignoreRules } from './ignore.ts';
import { listS3, parseS3Uri } from './s3.ts';
import { type EventListener, listenForS3Events } from './s3-events.ts';
import { watchS3 } from './s3-watch.ts';
import type { SourceWatcher } from './watcher-base.ts';

export interface WatchSpec {
  kind: SourceKind;
  /** Absolute folder path (no trailing slash) or s3://bucket/prefix. */
  uri: string;
}

export function parseSpec(input: string, cwd: string): WatchSpec {
  if (input.startsWith('s3://')) {
    parseS3Uri(input); // validates the bucket name
    return { kind: 's3', uri: input };
  }
  // The real path: workers read only files reached without symbolic links (read-file.ts).
  let abs = resolve(cwd, input);
  try {
    abs = realpathSync(abs);
  } catch {
    // missing: preflight says so
  }
  return { kind: 'folder', uri: abs.length > 1 ? abs.replace(/\/+$/, '') : abs };
}

/** Proves a source can be read before anything starts; a one-line CONFIG/CONNECTION error otherwise. */
export async function preflight(spec: WatchSpec, config: Config): Promise<void> {
  if (spec.kind === 's3') {
    for await (const _ of listS3(config, parseS3Uri(spec.uri), { pageSize: 1 })) break;
    return;
  }
  const info = await stat(spec.uri).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    const why = info.code === 'ENOENT' ? 'does not exist' : `cannot be read (${info.code})`;
    throw new SluiceError(
      'CONFIG_ERROR',
      `watch ${spec.uri}: the folder ${why}; check the path and its permissions`,
    );
  }
  if (!info.isDirectory()) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `watch ${spec.uri}: not a folder; give a folder or s3://bucket/prefix`,
    );
  }
}

export interface WatchOptions {
  collection: string;
  /** Lease length; a watcher renews at a third of it (default 30 s). */
  leaseMs?: number;
  owner?: string;
}

export interface WatchHandle {
  /** The running watcher of each source this process holds the lease for. */
  active: Map<string, SourceWatcher>;
  /** Resolves once every source has a running watcher here (tests; a standby never resolves). */
  allActive(): Promise<void>;
  close(): Promise<void>;
}

export async function startWatching(
  rt: Runtime,
  specs: WatchSpec[],
  opts: WatchOptions,
): Promise<WatchHandle> {
  const config = rt.config;
  const leaseMs = opts.leaseMs ?? 30_000;
  const owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const rules = ignoreRules({
    include: globList(config.watchInclude),
    exclude: globList(config.watchExclude),
  });
  const active = new Map<string, SourceWatcher>();
  const timers = new Set<NodeJS.Timeout>();
  const sources = await Promise.all(
    specs.map((s) => ensureSource(rt.pool, { ...s, collection: opts.collection })),
  );
  let closed = false;
  let onChange = () => {};
  const standby = new Set<string>();

  const startOne = (source: (typeof sources)[number]): SourceWatcher => {
    const t = { rt, source };
    const common = { rules, guard: config.deleteGuard, graceMs: config.deleteGraceMs };
    return source.kind === 's3'
      ? watchS3(t, { ...common, settings: config, pollMs: config.s3PollMs })
      : watchFolder(t, {
          ...common,
          root: source.uri,
          stableMs: config.watchStableMs,
          reconcileMs: config.watchReconcileMs,
          polling: config.watchPolling,
        });
  };

  const tend = async (source: (typeof sources)[number]) => {
    if (closed) return;
    const held = await acquireLease(rt.pool, source.id, owner, leaseMs).catch(() => undefined);
    const current = active.get(source.uri);
    if (held === true && !current) {
      rt.log.info(`watching ${source.uri} (collection ${source.collection})`);
      active.set(source.uri, startOne(source));
      onChange();
    } else if (held === false) {
      if (current) {
        // Our lease lapsed (e.g. Postgres was unreachable) and another watcher took over.
        rt.log.warn(`${source.uri}: another watcher holds it now; standing by`);
        active.delete(source.uri);
        await current.close();
      } else if (!standby.has(source.uri)) {
        rt.log.info(`${source.uri}: another watcher is active; standing by`);
      }
      standby.add(source.uri);
    }
    // held undefined: Postgres unreachable; keep what we have and try again.
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        void tend(source);
      },
      current || held ? leaseMs / 3 : leaseMs / 2,
    );
    timers.add(timer);
  };

  await Promise.all(sources.map(tend));
  const events = listenToEvents(rt, sources, active);
  return {
    active,
    allActive() {
      return new Promise((res) => {
        const check = () => {
          if (active.size === sources.length) {
            void Promise.all([...active.values()].map((w) => w.ready)).then(() => res());
            return true;
          }
          return false;
        };
        if (!check()) onChange = () => void check();
      });
    },
    async close() {
      closed = true;
      await events?.close();
      for (const t of timers) clearTimeout(t);
      await Promise.all([...active.values()].map((w) => w.close()));
      await Promise.all(sources.map((s) => releaseLease(rt.pool, s.id, owner).catch(() => undefined)));
    },
  };
}

/** With SLUICE_S3_SQS_URL, an S3 event for a watched prefix lists it at once (coalesced). */
function listenToEvents(
  rt: Runtime,
  sources: { kind: SourceKind; uri: string }[],
  active: Map<string, SourceWatcher>,
): EventListener | undefined {
  const buckets = sources.filter((s) => s.kind === 's3').map((s) => s.uri);
  const url = rt.config.s3SqsUrl;
  if (!url || buckets.length === 0) return undefined;
  const due = new Set<string>();
  return listenForS3Events(
    rt.config,
    url,
    buckets,
    (uri) => {
      if (due.has(uri)) return;
      due.add(uri);
      // Events come in bursts: one listing for all of a burst.
      setTimeout(() => {
        due.delete(uri);
        void active.get(uri)?.reconcile();
      }, 250);
    },
    rt.log,
  );
}
