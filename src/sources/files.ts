// Local files as a source: expands paths, directories and globs into files, and
// reads one document's bytes with the size limit applied before reading.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { glob, lstat, open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SluiceError } from '../errors.ts';

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
 * naming it, so nothing is enqueued from a half-understood command.
 */
export async function resolveInputs(inputs: string[], cwd = process.cwd()): Promise<SourceFile[]> {
  const seen = new Map<string, SourceFile>();
  for (const input of inputs) {
    const found: SourceFile[] = [];
    const abs = resolve(cwd, input);
    const info = await stat(abs).catch((err: NodeJS.ErrnoException) => err);
    if (!(info instanceof Error)) {
      if (info.isDirectory()) await walk(abs, found);
      else if (info.isFile()) found.push({ path: abs, bytes: info.size });
      else throw new InputError(`${input} is not a regular file or directory`);
    } else if (GLOB_CHARS.test(input)) {
      for await (const match of glob(input, { cwd })) {
        const p = resolve(cwd, match);
        const s = await stat(p).catch(() => undefined);
        if (s?.isFile()) found.push({ path: p, bytes: s.size });
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

async function walk(dir: string, out: SourceFile[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new InputError(`cannot read directory ${dir}: ${(err as Error).message}`);
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    // Hidden files and folders (.git, .DS_Store) are not documents.
    if (entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await walk(p, out);
    else if (entry.isFile()) {
      const s = await lstat(p);
      out.push({ path: p, bytes: s.size });
    }
  }
}

/** sha256 of a file, streamed (never the whole file in memory). */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
      hash.update(chunk as Buffer);
  } catch (err) {
    throw readError(path, err);
  }
  return hash.digest('hex');
}

/** Reads a document's bytes; refuses files over maxBytes from their size alone. */
export async function readFileLimited(path: string, maxBytes: number): Promise<Uint8Array> {
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw readError(path, err);
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new SluiceError(
        'TOO_LARGE',
        `${size} bytes is over the ${maxBytes}-byte limit (SLUICE_MAX_FILE_BYTES)`,
      );
    }
    // A fresh ArrayBuffer (byteOffset 0) so it can be transferred to an extraction thread.
    const bytes = new Uint8Array(new ArrayBuffer(size));
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === size ? bytes : bytes.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

function readError(path: string, err: unknown): SluiceError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new SluiceError('SOURCE_MISSING', `${path} no longer exists`);
  if (code === 'EACCES' || code === 'EPERM')
    return new SluiceError('SOURCE_MISSING', `cannot read ${path}: permission denied`);
  return new SluiceError('CONNECTION_ERROR', `reading ${path} failed: ${(err as Error).message}`, {
    cause: err,
  });
}
