// Source registry by URI scheme. A job carries only a document's URI; workers
// read the bytes through here, so folder and bucket documents share every stage.
import { SluiceError } from '../errors.ts';
import { readFileLimited } from './files.ts';

/** Reads the bytes of a document URI, refusing more than maxBytes. */
export async function readSource(uri: string, maxBytes: number): Promise<Uint8Array> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw new SluiceError('UNSUPPORTED_TYPE', `no source can read ${uri.split('://')[0]}:// URIs yet`);
  }
  const path = uri.startsWith('file://') ? new URL(uri).pathname : uri;
  return readFileLimited(path, maxBytes);
}
