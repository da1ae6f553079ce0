// An S3 bucket as a source: `s3://bucket/key` URIs, the paginated listing of a
// prefix, and the streamed read a worker does on another machine. A document
// version is named by its ETag and size (sha256 of both), so the watcher never
// downloads an object just to learn whether it changed.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { HeadObjectCommandOutput, ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { SluiceError } from '../errors.ts';
import type { ListedObject } from '../loaders/source-objects.ts';
import { type S3Settings, s3Client, s3ErrorName, s3Failure } from './s3-client.ts';

export interface S3Location {
  bucket: string;
  /** Key or prefix exactly as stored (spaces, unicode and `+` are not URL-decoded). */
  key: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses s3://bucket/key; the key is taken verbatim. */
export function parseS3Uri(uri: string): S3Location {
  if (!uri.startsWith('s3://')) throw new SluiceError('CONFIG_ERROR', `${uri} is not an s3:// URI`);
  const rest = uri.slice(5);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) {
    throw new SluiceError('CONFIG_ERROR', `"${bucket}" in ${uri} is not a valid bucket name`);
  }
  return { bucket, key };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The content hash sluice records for an S3 object version (no download needed). */
export function s3VersionHash(etag: string, size: number): string {
  return createHash('sha256')
    .update(`s3-etag:${etag.replace(/"/g, '')}:${size}`)
    .digest('hex');
}

/**
 * Lists every object under a prefix, one page (up to 1,000 keys) at a time.
 * Folder markers (keys ending in `/`) are skipped. Throws s3Failure on error,
 * so a caller that did not reach the end has no complete listing.
 */
export async function* listS3(
  settings: S3Settings,
  loc: S3Location,
  opts: { pageSize?: number } = {},
): AsyncGenerator<ListedObject[]> {
  const client = await s3Client(settings);
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await client.send(
        new ListObjectsV2Command({
          Bucket: loc.bucket,
          Prefix: loc.key || undefined,
          ContinuationToken: token,
          MaxKeys: opts.pageSize,
        }),
      );
    } catch (err) {
      throw s3Failure(err, s3Uri(loc.bucket, loc.key), settings);
    }
    const objects: ListedObject[] = [];
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      objects.push({
        key: o.Key,
        uri: s3Uri(loc.bucket, o.Key),
        size: Number(o.Size ?? 0),
        mtimeMs: o.LastModified?.getTime() ?? 0,
        etag: o.ETag ?? '',
      });
    }
    yield objects;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Thrown when the object is gone: the document ends deleted, not failed. */
export function isGone(err: unknown): boolean {
  return (err as SluiceError)?.details?.gone === true;
}

/**
 * Reads one object for extraction. HeadObject first: an object over maxBytes is
 * refused TOO_LARGE unread; then GetObject (pinned to the ETag seen) is streamed
 * into one buffer. Returns the bytes and the version hash they belong to.
 */
export async function readS3Object(
  settings: S3Settings,
  uri: string,
  maxBytes: number,
  attempt = 1,
): Promise<{ bytes: Uint8Array; hash: string }> {
  const loc = parseS3Uri(uri);
  const client = await s3Client(settings);
  const { HeadObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const fail = (err: unknown): SluiceError => {
    const name = s3ErrorName(err);
    if (name === 'NoSuchKey' || name === 'NotFound') {
      return new SluiceError('SOURCE_MISSING', `${uri} no longer exists`, { details: { gone: true } });
    }
    return s3Failure(err, uri, settings);
  };
  let head: HeadObjectCommandOutput;
  try {
    head = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  } catch (err) {
    throw fail(err);
  }
  const size = Number(head.ContentLength ?? 0);
  if (size > maxBytes) {
    throw new SluiceError(
      'TOO_LARGE',
      `${size} bytes is over the ${maxBytes}-byte limit (SLUICE_MAX_FILE_BYTES)`,
    );
  }
  const etag = head.ETag ?? '';
  let body: Readable;
  try {
    const res = await client.send(
      new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, ...(etag ? { IfMatch: etag } : {}) }),
    );
    body = res.Body as Readable;
  } catch (err) {
    // Replaced between HEAD and GET: the caller sees a new version next time round.
    if (s3ErrorName(err) === 'PreconditionFailed' && attempt < 3) {
      return readS3Object(settings, uri, maxBytes, attempt + 1);
    }
    throw fail(err);
  }
  // A fresh ArrayBuffer (byteOffset 0) so it can be transferred to an extraction thread.
  const bytes = new Uint8Array(new ArrayBuffer(size));
  let offset = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      if (offset + chunk.byteLength > size) {
        throw new SluiceError('TOO_LARGE', `${uri} grew past its listed ${size} bytes while being read`);
      }
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
  } catch (err) {
    body.destroy();
    if (err instanceof SluiceError) throw err;
    throw new SluiceError('CONNECTION_ERROR', `reading ${uri} failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (offset !== size) {
    throw new SluiceError('CONNECTION_ERROR', `reading ${uri} ended after ${offset} of ${size} bytes`);
  }
  return { bytes, hash: s3VersionHash(etag, size) };
}
