// Local files as a source: expands paths, directories and globs into files, and
// reads one document's bytes through the guarded reader (read-file.ts).
import type { Dirent } from 'node:fs';
import { glob, lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { hashRegularFile, readRegularFile } from './read-file.ts';

export interface SourceFile {
  /** Absolute path; also the document's uri. */
  path: string;
  bytes: number;
}

export class InputError extends Error {
  override readonly name = 'InputError';
  readonly code = 'INPUT_ERROR';
}

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Expands CLI inputs into files. Every input must resolve to at least one file:
 * a missing path, an unreadable directory or an empty glob is an InputError
 * naming it, so nothing is enqueued from a half-understood command. Paths are
 * real paths (a symlinked input is resolved once, here, because the user named
 * it); inside folders and globs symbolic links are skipped, and so is a file whose
 * name is not valid UTF-8 (it cannot be a uri): `onSkip` hears about each one.
 */
export async function resolveInputs(
  inputs: string[],
  cwd = process.cwd(),
  onSkip: (message: string) => void = () => undefined,
): Promise<SourceFile[]> {
  const seen = new Map<string, SourceFile>();
  for (const input of inputs) {
    const found: SourceFile[] = [];
    const info = await stat(resolve(cwd, input)).catch((err: NodeJS.ErrnoException) => err);
    if (!(info instanceof Error)) {
      const abs = await realpath(resolve(cwd, input));
      if (info.isDirectory()) await walk(abs, found, onSkip);
      else if (info.isFile()) found.push({ path: abs, bytes: info.size });
      else throw new InputError(`${input} is not a regular file or directory`);
    } else if (GLOB_CHARS.test(input)) {
      for await (const match of glob(input, { cwd })) {
        const p = resolve(cwd, match);
        const s = await lstat(p).catch(() => undefined);
        if (!s?.isFile()) continue;
        const dir = await realpath(dirname(p)).catch(() => undefined);
        if (dir) found.push({ path: join(dir, basename(p)), bytes: s.size });
      }
      if (found.length === 0) throw new InputError(`no files match ${input}`);
    } else if (info.code === 'EACCES') {
      throw new InputError(`cannot read ${input}: permission denied`);
    } else {
      throw new InputError(`${input} does not exist`);
    }
    for (const f of found) seen.set(f.path, f);
  }
  return [...seen.values()];
}

/** Regular files under dir, by name; symbolic links are not followed. */
async function walk(dir: string, out: SourceFile[], onSkip: (message: string) => void): Promise<void> {
  let entries: Dirent<Buffer>[];
  try {
    // Names as bytes: a name that is not UTF-8 would come back altered and not be found again.
    entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    throw new InputError(`cannot read directory ${dir}: ${(err as Error).message}`);
  }
  const named = entries.map((entry) => ({ entry, name: entry.name.toString('utf8') }));
  for (const { entry, name } of named.sort((a, b) => a.name.localeCompare(b.name))) {
    // Hidden files and folders (.git, .DS_Store) are not documents.
    if (name.startsWith('.')) continue;
    if (!Buffer.from(name, 'utf8').equals(entry.name)) {
      onSkip(
        `skipping ${join(dir, escapeName(entry.name))}: its name is not valid UTF-8; rename it to index it`,
      );
      continue;
    }
    const p = join(dir, name);
    if (entry.isDirectory()) await walk(p, out, onSkip);
    else if (entry.isFile()) {
      const s = await lstat(p).catch(() => undefined); // gone since the listing: not a document
      if (s?.isFile()) out.push({ path: p, bytes: s.size });
    }
  }
}

/** A file name's bytes for a message: printable ASCII as is, any other byte as \xNN. */
export function escapeName(name: Buffer): string {
  let out = '';
  for (const b of name)
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

/** How long ingest may spend hashing one file before it counts as unreadable. */
const HASH_TIMEOUT_MS = 10 * 60_000;

/** sha256 of a regular file, streamed (never the whole file in memory); refuses FIFOs, devices, symlinks. */
export async function hashFile(path: string, timeoutMs = HASH_TIMEOUT_MS): Promise<string> {
  return hashRegularFile(path, { timeoutMs });
}

/**
 * Reads a document's bytes: a regular file reached without symbolic links, refused
 * over maxBytes (from its size, and as read), within timeoutMs.
 */
export async function readFileLimited(
  path: string,
  maxBytes: number,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  return readRegularFile(path, {
    maxBytes,
    timeoutMs: opts.timeoutMs ?? HASH_TIMEOUT_MS,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
