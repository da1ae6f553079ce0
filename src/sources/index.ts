// Source registry by URI scheme. A job carries only a document's URI; workers
// read the bytes through here, so folder and bucket documents share every stage.
import { createHash } from 'node:crypto';
import { SluiceError } from '../errors.ts';
import { readFileLimited } from './files.ts';
import type { S3Settings } from './s3-client.ts';

export interface SourceRead {
  bytes: Uint8Array;
  /** The version these bytes are, comparable with the job's content hash. */
  hash: string;
}

export interface ReadSourceOptions {
  /** A local file's read fails TIMEOUT after this long (SLUICE_READ_TIMEOUT_MS). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Reads the bytes of a document URI, refusing more than maxBytes. */
export async function readSource(
  uri: string,
  maxBytes: number,
  s3: S3Settings,
  opts: ReadSourceOptions = {},
): Promise<SourceRead> {
  if (uri.startsWith('s3://')) {
    const { readS3Object } = await import('./s3.ts');
    return readS3Object(s3, uri, maxBytes);
  }
  const path = localPathOf(uri);
  if (path === undefined) {
    throw new SluiceError('UNSUPPORTED_TYPE', `no source can read ${uri.split('://')[0]}:// URIs yet`);
  }
  const bytes = await readFileLimited(path, maxBytes, opts);
  return { bytes, hash: createHash('sha256').update(bytes).digest('hex') };
}

/** The file path of a local document URI (a path or file://), undefined for any other scheme. */
export function localPathOf(uri: string): string | undefined {
  if (uri.startsWith('file://')) return new URL(uri).pathname;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? undefined : uri;
}
