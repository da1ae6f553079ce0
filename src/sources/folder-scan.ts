// Full listing of a watched folder, in batches so a 100,000-file tree never sits
// in memory at once. Symlinked folders are followed once (a loop is noticed by
// the folder's dev:ino and skipped with a warning); an unreadable subfolder is
// reported, so its files are not mistaken for deleted ones.
import type { Dirent } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ListedObject } from '../loaders/sources.ts';
import type { IgnoreRules } from './ignore.ts';

export interface ScanReport {
  files: number;
  /** Folders (relative) that could not be read: their stored files are kept as they are. */
  unreadable: string[];
  /** Symlinked folders skipped because they lead back into the tree. */
  loops: string[];
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
      for await (const entry of handle) {
        const path = join(dir, entry.name);
        const rel = keyOf(opts.root, path);
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        let info: import('node:fs').Stats | undefined;
        if (entry.isSymbolicLink()) {
          info = await stat(path).catch(() => undefined); // a dangling link is not a document
          isDir = info?.isDirectory() ?? false;
          isFile = info?.isFile() ?? false;
        }
        if (isDir) {
          if (opts.rules.ignoresDir(rel)) continue;
          info ??= await stat(path).catch(() => undefined);
          if (!info) continue;
          // Every folder is entered once, whichever way it is reached: a symlink loop ends here.
          const id = `${info.dev}:${info.ino}`;
          if (visited.has(id)) {
            report.loops.push(rel);
            opts.onWarning?.(`skipping ${path}: it leads to a folder already listed (symlink loop)`);
            continue;
          }
          visited.add(id);
          stack.push(path);
        } else if (isFile && !opts.rules.ignoresFile(rel)) {
          info ??= await stat(path).catch(() => undefined);
          if (!info?.isFile()) continue; // vanished since the listing
          report.files++;
          batch.push({
            key: rel,
            uri: path,
            size: info.size,
            mtimeMs: info.mtimeMs,
            inode: `${info.dev}:${info.ino}`,
          });
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      }
    } catch (err) {
      // Failed part-way (e.g. the folder was removed while listed): treat as unreadable.
      report.unreadable.push(relDir);
      opts.onWarning?.(`listing ${dir} failed: ${(err as Error).message}`);
    }
  }
  if (batch.length > 0) yield batch;
}
