// Reading one local source file without trusting what is at its path now: files
// can be swapped after `ingest` listed them. Only a regular file is read (a FIFO,
// device or folder is refused NOT_A_FILE), never through a symbolic link (the file
// itself or any parent folder), with the byte limit counted as the bytes arrive
// and the whole read bounded in time and cancellable.
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SluiceError } from '../errors.ts';

/** O_NONBLOCK: opening a FIFO returns at once (then fstat refuses it) instead of waiting for a writer. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
const CHUNK = 1 << 20;

export interface ReadOptions {
  maxBytes: number;
  /** The read (open included) fails TIMEOUT after this long. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Opens `path` for reading if it is a regular file reached without any symbolic
 * link; throws a SluiceError with a permanent code otherwise.
 */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw readError(path, err);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new SluiceError(
        'NOT_A_FILE',
        `${path} is ${kindOf(info)}, not a regular file; only regular files are read`,
      );
    }
    const real = await realPathOf(handle, path);
    if (real.endsWith(' (deleted)')) throw new SluiceError('SOURCE_MISSING', `${path} no longer exists`);
    if (real !== resolve(path)) {
      throw new SluiceError(
        'NOT_A_FILE',
        `${path} is reached through a symbolic link (it leads to another place); ingest the real path instead`,
      );
    }
    return { handle, size: info.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Reads a regular file's bytes (see openRegularFile), refusing TOO_LARGE once more
 * than maxBytes have been read or the size says so, TIMEOUT when the read takes
 * longer than timeoutMs; an abort of `signal` stops it with the signal's reason.
 */
export async function readRegularFile(path: string, opts: ReadOptions): Promise<Uint8Array> {
  return withReadLimits(path, opts, async (isStopped) => {
    const { handle, size } = await openRegularFile(path);
    try {
      if (size > opts.maxBytes) throw tooLarge(size, opts.maxBytes);
      // One buffer of the stat size (a fresh ArrayBuffer, transferable to an extraction thread).
      // A file that grows while read goes on in chunks, still counted against maxBytes.
      let bytes = new Uint8Array(new ArrayBuffer(size));
      let offset = 0;
      for (;;) {
        isStopped();
        if (offset === bytes.byteLength) {
          const more = new Uint8Array(1);
          const { bytesRead } = await handle.read(more, 0, 1, offset);
          if (bytesRead === 0) break;
          if (offset + 1 > opts.maxBytes) throw tooLarge(offset + 1, opts.maxBytes);
          const grown = new Uint8Array(new ArrayBuffer(Math.min(opts.maxBytes + 1, offset * 2 + CHUNK)));
          grown.set(bytes.subarray(0, offset));
          grown[offset++] = more[0]!;
          bytes = grown;
          continue;
        }
        const want = Math.min(CHUNK, bytes.byteLength - offset);
        const { bytesRead } = await handle.read(bytes, offset, want, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        if (offset > opts.maxBytes) throw tooLarge(offset, opts.maxBytes);
      }
      return offset === bytes.byteLength ? bytes : bytes.slice(0, offset);
    } finally {
      await handle.close();
    }
  });
}

/** sha256 of a regular file, streamed in chunks (never the whole file in memory), with the same guards. */
export async function hashRegularFile(path: string, opts: Omit<ReadOptions, 'maxBytes'>): Promise<string> {
  return withReadLimits(path, { ...opts, maxBytes: Number.POSITIVE_INFINITY }, async (isStopped) => {
    const { handle } = await openRegularFile(path);
    try {
      const hash = createHash('sha256');
      const buf = new Uint8Array(CHUNK);
      for (let pos = 0; ; ) {
        isStopped();
        const { bytesRead } = await handle.read(buf, 0, CHUNK, pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      return hash.digest('hex');
    } finally {
      await handle.close();
    }
  });
}

/**
 * Runs `work` until it settles, the time limit passes or the signal aborts,
 * whichever comes first. A read stuck in the kernel (a hung network mount) cannot
 * be interrupted, but the caller stops waiting for it; `isStopped` ends the work
 * at its next chunk.
 */
export async function withReadLimits<T>(
  path: string,
  opts: ReadOptions,
  work: (isStopped: () => void) => Promise<T>,
): Promise<T> {
  opts.signal?.throwIfAborted();
  let stopped: unknown;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const fail = (err: unknown) => {
      stopped = err;
      reject(err);
    };
    timer = setTimeout(
      () =>
        fail(
          new SluiceError(
            'TIMEOUT',
            `reading ${path} took over ${opts.timeoutMs} ms (SLUICE_READ_TIMEOUT_MS); check the disk or mount it is on`,
          ),
        ),
      opts.timeoutMs,
    );
    onAbort = () => fail(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
  stop.catch(() => undefined);
  const running = work(() => {
    if (stopped !== undefined) throw stopped;
  });
  running.catch(() => undefined); // settles later when abandoned
  try {
    return await Promise.race([running, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** The real path of an open file: from /proc on Linux (no race with a swap), else realpath. */
async function realPathOf(handle: FileHandle, path: string): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return realpath(path).catch(() => resolve(path));
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function tooLarge(bytes: number, max: number): SluiceError {
  return new SluiceError('TOO_LARGE', `${bytes} bytes is over the ${max}-byte limit (SLUICE_MAX_FILE_BYTES)`);
}

/** A failed open or read as a SluiceError: permanent for what retrying cannot change. */
export function readError(path: string, err: unknown): SluiceError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return new SluiceError('SOURCE_MISSING', `${path} no longer exists`);
  if (code === 'ELOOP') {
    return new SluiceError(
      'NOT_A_FILE',
      `${path} is a symbolic link; links are not followed, ingest the file it points to instead`,
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new SluiceError(
      'PERMISSION_DENIED',
      `cannot read ${path}: permission denied; give the worker's user read access and retry it`,
    );
  }
  if (code === 'EISDIR') return new SluiceError('NOT_A_FILE', `${path} is a folder, not a regular file`);
  return new SluiceError('CONNECTION_ERROR', `reading ${path} failed: ${(err as Error).message}`, {
    cause: err,
  });
}
