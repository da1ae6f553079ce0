// Where uploads land: the inbox (SLUICE_INBOX), a folder or an s3://bucket/prefix
// that watchers or workers read. Bytes are streamed to a hidden staging file with
// the size limit enforced as they arrive, then renamed into place (or put into
// the bucket), so nothing half-written is ever visible and nothing is stored
// when the limit is hit.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config.ts';
import { SluiceError } from '../errors.ts';
import { hashFile } from './files.ts';
import { parseS3Uri, s3Uri, s3VersionHash } from './s3.ts';
import { s3Client, s3Failure } from './s3-client.ts';

/** A file name safe on any file system and in a key: no separators, `..`, control or bidi characters. */
export function sanitizeFileName(name: string): string {
  const base = name.split(/[/\\]/).at(-1) ?? '';
  const clean = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[^\p{L}\p{N} ._()+,@=-]/gu, '_')
    .replace(/^[.\s]+/, '')
    .trim();
  // Bounded in bytes, not characters: file systems limit names to 255 bytes.
  let out = clean || 'upload';
  while (Buffer.byteLength(out) > 200) out = out.slice(0, -1);
  return out;
}

export interface StoredUpload {
  uri: string;
  bytes: number;
  hash: string;
}

/** Thrown while streaming when the upload passes the limit. */
export function tooLarge(limit: number): SluiceError {
  return new SluiceError('TOO_LARGE', `the upload is over the ${limit}-byte limit (SLUICE_MAX_FILE_BYTES)`);
}

/**
 * Streams one upload into the inbox under `collection/<random>-<name>`. Rejects
 * TOO_LARGE (with nothing left behind) once more than maxBytes have arrived.
 */
export async function storeUpload(
  config: Config,
  cwd: string,
  input: Readable,
  opts: { collection: string; fileName: string; maxBytes: number },
): Promise<StoredUpload> {
  const inboxIsBucket = config.inbox.startsWith('s3://');
  const staging = inboxIsBucket
    ? join(resolve(cwd, '.sluice-staging'))
    : join(resolve(cwd, config.inbox), '.staging');
  await mkdir(staging, { recursive: true });
  const id = randomBytes(6).toString('hex');
  // Real paths: the staging file is hashed, and workers read, only without symbolic links.
  const temp = join(await realpath(staging), `${id}.part`);
  let received = 0;
  try {
    await pipeline(
      input,
      async function* limit(source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          received += chunk.byteLength;
          if (received > opts.maxBytes) throw tooLarge(opts.maxBytes);
          yield chunk;
        }
      },
      createWriteStream(temp, { flags: 'wx', mode: 0o640 }),
    );
    const name = `${id}-${opts.fileName}`;
    if (!inboxIsBucket) {
      const wanted = join(resolve(cwd, config.inbox), opts.collection);
      await mkdir(wanted, { recursive: true });
      const dir = await realpath(wanted);
      const path = join(dir, name);
      const hash = await hashFile(temp);
      await rename(temp, path); // atomic: a watcher of the inbox never sees a partial file
      return { uri: path, bytes: received, hash };
    }
    return await putIntoBucket(config, temp, `${opts.collection}/${name}`);
  } finally {
    await rm(temp, { force: true });
  }
}

async function putIntoBucket(config: Config, path: string, name: string): Promise<StoredUpload> {
  const loc = parseS3Uri(config.inbox);
  const key = `${loc.key}${loc.key && !loc.key.endsWith('/') ? '/' : ''}${name}`;
  const { size } = await stat(path);
  const client = await s3Client(config);
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  try {
    const res = await client.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: key,
        Body: createReadStream(path),
        ContentLength: size,
      }),
    );
    return { uri: s3Uri(loc.bucket, key), bytes: size, hash: s3VersionHash(res.ETag ?? '', size) };
  } catch (err) {
    throw s3Failure(err, config.inbox, config);
  }
}
