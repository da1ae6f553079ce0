// Full listing of a watched folder, in batches so a 100,000-file tree never sits
// in memory at once. Symbolic links (to files or folders) are not followed: what
// they lead to may be outside the tree, and workers refuse to read through them
// (read-file.ts); they are listed in the report. A folder reached twice (a bind
// mount) is entered once; an unreadable subfolder is reported, so its files are not
// mistaken for deleted ones.
import type { Dirent } from 'node:fs';
import { lstat, opendir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ListedObject } from '../loaders/source-objects.ts';
import type { IgnoreRules } from './ignore.ts';

export interface ScanReport {
  files: number;
  /** Folders (relative) that could not be read: their stored files are kept as they are. */
  unreadable: string[];
  /** Folders skipped because they were already listed (bind mounts). */
  loops: string[];
  /** Symbolic links (relative) skipped: not followed. */
  links: string[];
}

export interface ScanOptions {
  root: string;
  rules: IgnoreRules;
  batchSize?: number;
  onWarning?: (message: string) => void;
}

/** Relative key of an absolute path under root, with `/` separators. */
export function keyOf(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/**
 * Walks the folder depth-first, yielding files in batches. The report is filled
 * in as the walk goes and is complete once the generator finishes.
 */
export async function* scanFolder(opts: ScanOptions, report: ScanReport): AsyncGenerator<ListedObject[]> {
  const batchSize = opts.batchSize ?? 500;
  const rootStat = await stat(opts.root); // throws when the folder is missing: no listing, no deletions
  const visited = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);
  const stack: string[] = [opts.root];
  let batch: ListedObject[] = [];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const relDir = keyOf(opts.root, dir);
    let handle: AsyncIterable<Dirent>;
    try {
      handle = await opendir(dir, { bufferSize: 64 });
    } catch (err) {
      report.unreadable.push(relDir);
      opts.onWarning?.(
        `cannot read folder ${dir}: ${(err as Error).message}; its files are left as they were`,
      );
      continue;
    }
    try {
      let pending: Dirent[] = [];
      const flush = async () => {
        // Stats of one folder's entries run side by side: a scan is mostly waiting on the disk.
        const infos = await Promise.all(pending.map((e) => lstat(join(dir, e.name)).catch(() => undefined)));
        for (const [i, entry] of pending.entries()) {
          const info = infos[i];
          const path = join(dir, entry.name);
          const rel = keyOf(opts.root, path);
          if (!info) continue; // vanished since the listing: not a document
          if (info.isSymbolicLink()) {
            if (!opts.rules.ignoresFile(rel)) report.links.push(rel);
            continue;
          }
          if (info.isDirectory()) {
            if (opts.rules.ignoresDir(rel)) continue;
            // Every folder is entered once, whichever way it is reached: a symlink loop ends here.
            const id = `${info.dev}:${info.ino}`;
            if (visited.has(id)) {
              report.loops.push(rel);
              opts.onWarning?.(`skipping ${path}: it is a folder already listed`);
              continue;
            }
            visited.add(id);
            stack.push(path);
          } else if (info.isFile() && !opts.rules.ignoresFile(rel)) {
            report.files++;
            batch.push({
              key: rel,
              uri: path,
              size: info.size,
              mtimeMs: info.mtimeMs,
              inode: `${info.dev}:${info.ino}`,
            });
          }
        }
        pending = [];
      };
      for await (const entry of handle) {
        if (!entry.isDirectory() && !entry.isFile() && !entry.isSymbolicLink()) continue; // sockets, fifos
        pending.push(entry);
        if (pending.length >= 64) await flush();
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      await flush();
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    } catch (err) {
      // Failed part-way (e.g. the folder was removed while listed): treat as unreadable.
      report.unreadable.push(relDir);
      opts.onWarning?.(`listing ${dir} failed: ${(err as Error).message}`);
    }
  }
  if (batch.length > 0) yield batch;
}
