// `sluice sources`: the folders and buckets being followed, with their last
// scan, object counts, pending and held deletions; `approve-deletes` applies
// deletions the mass-delete guard held, `discard-deletes` forgets them.
import type { Command } from 'commander';
import type { SourceRow } from '../loaders/sources.ts';
import type { Runtime } from '../queue/runtime.ts';
import { escapeControls } from '../terminal-text.ts';
import { withRuntime } from './context.ts';
import { type CliIO, cliLogger, EXIT, ExitError, type GlobalOpts, readConfig, writeJson } from './io.ts';

type Flags = GlobalOpts & { collection?: string };

async function withSources(
  io: CliIO,
  opts: Flags,
  cmd: Command,
  fn: (rt: Runtime, g: Flags) => Promise<void>,
) {
  const g = { ...cmd.optsWithGlobals<Flags>(), ...opts };
  const config = readConfig(io, g, { collection: g.collection });
  await withRuntime(config, cliLogger(io, config, g), 'producer', (rt) => fn(rt, g));
}

async function findOne(
  rt: Runtime,
  ref: string,
  collection: string | undefined,
  cwd: string,
): Promise<SourceRow> {
  const { findSources } = await import('../loaders/sources.ts');
  const { parseSpec } = await import('../sources/watch.ts');
  let found = await findSources(rt.pool, ref, collection);
  if (found.length === 0 && !ref.startsWith('s3://'))
    found = await findSources(rt.pool, parseSpec(ref, cwd).uri, collection);
  if (found.length === 0)
    throw new ExitError(
      EXIT.usage,
      `error: no source ${escapeControls(ref)}; run \`sluice sources\` to list them`,
    );
  if (found.length > 1) {
    throw new ExitError(
      EXIT.usage,
      `error: ${escapeControls(ref)} is watched in several collections; add --collection`,
    );
  }
  return found[0]!;
}

export function register(program: Command, io: CliIO): void {
  const sources = program
    .command('sources')
    .description('list watched folders and buckets: last scan, objects, pending and held deletions')
    .option('--json', 'print as JSON on stdout')
    .action(async (opts: Flags, cmd: Command) =>
      withSources(io, opts, cmd, async (rt, g) => {
        const { sourceSummaries } = await import('../loaders/sources.ts');
        const list = (await sourceSummaries(rt.pool)).map((s) => ({
          id: s.id,
          kind: s.kind,
          uri: s.uri,
          collection: s.collection,
          lastScanAt: s.last_scan_at,
          lastScanMs: s.last_scan_ms,
          objects: s.objects,
          pendingDeletes: s.pendingDeletes,
          heldDeletes: s.heldDeletes,
          watchedBy: s.lease_expires_at && s.lease_expires_at > new Date() ? s.lease_owner : null,
          lastError: s.last_error,
        }));
        if (g.json) return writeJson(io, { sources: list });
        if (list.length === 0) io.stdout('no sources yet: run `sluice watch <dir|s3://bucket/prefix>`\n');
        for (const s of list) {
          const scan = s.lastScanAt
            ? `last scan ${s.lastScanAt.toISOString()} (${s.lastScanMs} ms)`
            : 'never scanned';
          io.stdout(
            `#${s.id} ${escapeControls(s.uri)} [${s.collection}]: ${s.objects} object(s), ${scan}, ` +
              `${s.pendingDeletes} pending deletion(s), ${s.heldDeletes} held${s.watchedBy ? `, watched by ${s.watchedBy}` : ''}\n`,
          );
          if (s.heldDeletes > 0) {
            io.stdout(
              `  held: review, then \`sluice sources approve-deletes ${escapeControls(s.uri)}\` or \`discard-deletes\`\n`,
            );
          }
          if (s.lastError) io.stdout(`  last error: ${escapeControls(s.lastError)}\n`);
        }
      }),
    );
  sources
    .command('approve-deletes')
    .description('apply the deletions the mass-delete guard (SLUICE_DELETE_GUARD) held for a source')
    .argument('<source>', 'the source uri (folder or s3://bucket/prefix) or its id')
    .option('--collection <name>', 'when the source is watched in several collections')
    .option('--json', 'print as JSON on stdout')
    .action(async (ref: string, opts: Flags, cmd: Command) =>
      withSources(io, opts, cmd, async (rt, g) => {
        const { approveHeld } = await import('../loaders/source-objects.ts');
        const source = await findOne(rt, ref, opts.collection, io.cwd);
        const { approved, deleted } = await approveHeld(rt.pool, source.id);
        if (g.json) writeJson(io, { source: source.uri, approved, deleted });
        else
          io.stderr(
            `${escapeControls(source.uri)}: ${approved} held deletion(s) applied, ${deleted} document(s) deleted\n`,
          );
      }),
    );
  sources
    .command('discard-deletes')
    .description(
      'forget held deletions: the documents stay indexed and the missing objects are no longer tracked',
    )
    .argument('<source>', 'the source uri (folder or s3://bucket/prefix) or its id')
    .option('--collection <name>', 'when the source is watched in several collections')
    .option('--json', 'print as JSON on stdout')
    .action(async (ref: string, opts: Flags, cmd: Command) =>
      withSources(io, opts, cmd, async (rt, g) => {
        const { discardHeld } = await import('../loaders/source-objects.ts');
        const source = await findOne(rt, ref, opts.collection, io.cwd);
        const n = await discardHeld(rt.pool, source.id);
        if (g.json) writeJson(io, { source: source.uri, discarded: n });
        else
          io.stderr(
            `${escapeControls(source.uri)}: ${n} held deletion(s) discarded; the documents stay indexed\n`,
          );
      }),
    );
}
