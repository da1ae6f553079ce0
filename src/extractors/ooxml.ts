// Shared opening of Office Open XML and OpenDocument packages (PPTX, XLSX, ODT, ODS,
// ODP, EPUB): size and cancellation checks, password-protected files reported as
// ENCRYPTED under their own format name, the zip guard, relationships and core
// properties. Each format's extractor holds only its own structure.
import { SluiceError } from '../errors.ts';
import { checkAborted } from './text-input.ts';
import type { ExtractInput } from './types.ts';
import { find, kids, parseXml, textOf } from './xml.ts';
import { openZip, resolvePart, type ZipArchive } from './zip-read.ts';

/** Password-protected Office files are an OLE container holding an "EncryptedPackage" stream. */
export function isEncryptedOoxml(bytes: Uint8Array): boolean {
  const ole = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1].every((b, i) => bytes[i] === b);
  return (
    ole &&
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('EncryptedPackage', 0, 'utf16le')
  );
}

/** What to do about a password-protected file of `format` (one sentence a user can act on). */
export function encryptedError(format: string): SluiceError {
  return new SluiceError(
    'ENCRYPTED',
    `${format} is password-protected (encrypted package); open it, remove the password (File › Info › Protect) and save it, then ingest it again`,
  );
}

/** Size, cancellation and encryption checks, then the zip guard. */
export function openPackage(input: ExtractInput, format: string): ZipArchive {
  const { bytes, limits } = input;
  checkAborted(input.signal);
  if (bytes.byteLength > limits.maxBytes) {
    throw new SluiceError('TOO_LARGE', `${format} is ${bytes.byteLength} bytes, limit ${limits.maxBytes}`);
  }
  if (bytes.byteLength === 0) throw new SluiceError('NO_TEXT', `${format} file is empty`);
  if (isEncryptedOoxml(bytes)) throw encryptedError(format);
  return openZip(bytes, limits, format);
}

/** Relationship targets of `part` by id, resolved to archive paths (external targets skipped). */
export async function readRels(zip: ZipArchive, part: string): Promise<Map<string, string>> {
  const slash = part.lastIndexOf('/');
  const relsName = `${part.slice(0, slash + 1)}_rels/${part.slice(slash + 1)}.rels`;
  const out = new Map<string, string>();
  if (!zip.has(relsName)) return out;
  const root = await parseXml(zip.readXml(relsName), relsName);
  const rels = find(root, 'Relationships');
  for (const r of rels ? kids(rels, 'Relationship') : []) {
    if (r.attrs['TargetMode'] === 'External' || !r.attrs['Id'] || !r.attrs['Target']) continue;
    out.set(r.attrs['Id'], resolvePart(part, r.attrs['Target']));
  }
  return out;
}

/** Title, author and creation date from docProps/core.xml (Dublin Core), when present. */
export async function coreProperties(zip: ZipArchive): Promise<Record<string, string | null>> {
  const name = 'docProps/core.xml';
  const root = zip.has(name) ? await parseXml(zip.readXml(name), name) : undefined;
  const prop = (tag: string): string | null => {
    const el = root && find(root, tag);
    const v = el ? textOf(el).trim() : '';
    return v || null;
  };
  return { title: prop('title'), author: prop('creator'), creationDate: prop('created') };
}

/** Collapse runs of spaces and tabs (not newlines) and trim. */
export const tidy = (s: string): string => s.replace(/[ \t\u00a0]+/g, ' ').trim();

/** Throw TOO_LARGE when the text would exceed the limit, NO_TEXT when there is none. */
export function checkTextSize(chars: number, maxTextChars: number, format: string): void {
  if (chars > maxTextChars)
    throw new SluiceError('TOO_LARGE', `${format} text exceeds ${maxTextChars} characters`);
  if (chars === 0) throw new SluiceError('NO_TEXT', `${format} contains no text`);
}
