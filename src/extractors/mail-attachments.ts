// Attachments of mail messages (EML, MSG) as documents of their own. The message's
// extractor lists them (index, sanitised name, sniffed type, size, sha256) in
// `metadata.attachments`; the extract stage turns each into a child document whose
// uri points inside the parent (`<parent>#attachment/<n>/<name>`); reading a child
// re-reads the root file and walks the indexes down (attachmentAt), so jobs still
// carry ids, never contents.
import { createHash } from 'node:crypto';
import { SluiceError } from '../errors.ts';
import { MIME, sniffType } from './sniff.ts';

/** One attachment as the message's extraction records it. */
export interface AttachmentInfo {
  /** Position among the message's attachments (what attachmentAt takes). */
  index: number;
  /** File name safe for a uri segment and a log line. */
  name: string;
  /** Content type sniffed from the attachment's bytes. */
  mime: string;
  bytes: number;
  sha256: string;
}

/** What a mail parser gives for one attachment. */
export interface RawAttachment {
  filename: string | null | undefined;
  content: Uint8Array;
}

const SEGMENT = /(?:#|\/)attachment\/(\d+)\/[^/#]*/g;

/** Marks the attachment part of a child document's uri. */
export function isAttachmentUri(uri: string): boolean {
  return /#attachment\/\d+\//.test(uri);
}

/** Splits `<root>#attachment/2/a.eml/attachment/0/b.pdf` into the root file and [2, 0]. */
export function parseAttachmentUri(uri: string): { root: string; path: number[] } {
  const hash = uri.indexOf('#attachment/');
  if (hash < 0) return { root: uri, path: [] };
  const path = [...uri.slice(hash).matchAll(SEGMENT)].map((m) => Number(m[1]));
  return { root: uri.slice(0, hash), path };
}

/** The uri of attachment `info` of the document at `parentUri`. */
export function childUri(parentUri: string, info: Pick<AttachmentInfo, 'index' | 'name'>): string {
  const sep = isAttachmentUri(parentUri) ? '/' : '#';
  return `${parentUri}${sep}attachment/${info.index}/${info.name}`;
}

/** The uri of the document an attachment uri belongs to. */
export function parentOf(uri: string): string | undefined {
  const m = /(?:#|\/)attachment\/\d+\/[^/#]*$/.exec(uri);
  return m && isAttachmentUri(uri) ? uri.slice(0, m.index) : undefined;
}

/** A file name reduced to a safe uri segment: no path separators, controls, '#' or '%'; at most 100 characters. */
export function sanitiseName(name: string | null | undefined, index: number): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}#%?]/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  return (clean || `attachment-${index}`).slice(0, 100);
}

/** At most this many attachments are described (an attachment bomb lists millions of tiny parts). */
export const MAX_LISTED_ATTACHMENTS = 1000;

/** Describe attachments for `metadata.attachments`: names, sniffed types, sizes, hashes. */
export async function describeAttachments(list: readonly RawAttachment[]): Promise<AttachmentInfo[]> {
  const out: AttachmentInfo[] = [];
  for (let index = 0; index < Math.min(list.length, MAX_LISTED_ATTACHMENTS); index++) {
    const a = list[index]!;
    const name = sanitiseName(a.filename, index);
    out.push({
      index,
      name,
      mime: await sniffType(a.content, name),
      bytes: a.content.byteLength,
      sha256: createHash('sha256').update(a.content).digest('hex'),
    });
  }
  return out;
}

/**
 * The bytes of the attachment reached by following `path` (attachment indexes,
 * outermost first) from the message `bytes`. SOURCE_MISSING when an index no longer
 * exists (the parent changed since the child was queued).
 */
export async function attachmentAt(bytes: Uint8Array, path: readonly number[]): Promise<Uint8Array> {
  let current = bytes;
  for (const index of path) {
    const mime = await sniffType(current);
    let list: readonly RawAttachment[];
    if (mime === MIME.eml) list = await (await import('./eml.ts')).emlAttachments(current);
    else if (mime === MIME.msg) list = await (await import('./msg.ts')).msgAttachments(current);
    else
      throw new SluiceError(
        'SOURCE_MISSING',
        `the parent of this attachment is no longer a mail message (${mime})`,
      );
    const found = list[index];
    if (!found)
      throw new SluiceError('SOURCE_MISSING', `attachment ${index} no longer exists in its message`);
    current = found.content;
  }
  return current;
}
