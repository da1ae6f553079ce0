// Reading entries of a ZIP container that passed the zip guard: each entry is
// inflated with its declared size as a hard cap (a directory that lies about sizes
// fails TOO_LARGE here), and the whole archive shares one inflate budget below the
// guard's limit. XML parts are refused when they declare a DTD (entity bombs, XXE).
import { inflateRawSync } from 'node:zlib';
import { SluiceError } from '../errors.ts';
import type { ExtractLimits } from './types.ts';
import { inspectZip, type ZipEntry } from './zip-guard.ts';

/** An opened archive: entries by name and guarded readers. */
export interface ZipArchive {
  entries: ReadonlyMap<string, ZipEntry>;
  has(name: string): boolean;
  /** Inflated bytes of `name`; CORRUPT_FILE when absent. */
  read(name: string): Buffer;
  /** `name` as UTF-8 XML text; CORRUPT_FILE when it declares a DTD or entities. */
  readXml(name: string): string;
  /** `name` as XML bytes (for streaming), with the same DTD refusal. */
  readXmlBytes(name: string): Buffer;
}

/**
 * Inflate one entry, never beyond its declared size: a bomb whose directory lies about
 * sizes fails here with TOO_LARGE instead of ballooning inside a parser.
 */
export function inflateEntry(bytes: Uint8Array, e: ZipEntry): Buffer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(e.localHeaderOffset, true) !== 0x04034b50) {
    throw new SluiceError('CORRUPT_FILE', `ZIP entry ${e.name} has no local header`);
  }
  const start =
    e.localHeaderOffset +
    30 +
    view.getUint16(e.localHeaderOffset + 26, true) +
    view.getUint16(e.localHeaderOffset + 28, true);
  const data = bytes.subarray(start, start + e.compressedSize);
  if (e.method === 0) return Buffer.from(data);
  if (e.method !== 8)
    throw new SluiceError('CORRUPT_FILE', `ZIP entry ${e.name} uses unsupported method ${e.method}`);
  try {
    return inflateRawSync(data, { maxOutputLength: Math.max(e.uncompressedSize, 1) });
  } catch (err) {
    const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
    throw tooBig
      ? new SluiceError(
          'TOO_LARGE',
          `ZIP entry ${e.name} inflates beyond its declared ${e.uncompressedSize} bytes`,
        )
      : new SluiceError('CORRUPT_FILE', `ZIP entry ${e.name} cannot be inflated`, { cause: err });
  }
}

const DTD_MARKERS = ['<!DOCTYPE', '<!ENTITY', '<!doctype', '<!entity'];

/** Throw CORRUPT_FILE when an XML text declares a DTD or entities (never needed by OOXML/ODF/EPUB parts we read). */
export function refuseDtd(xml: string, where: string): void {
  if (/<!(DOCTYPE|ENTITY)/i.test(xml.replace(/\0/g, ''))) {
    throw new SluiceError('CORRUPT_FILE', `${where} declares a DTD/entities (refused: entity bombs and XXE)`);
  }
}

/**
 * Open a ZIP container of format `format` (named in errors) after the zip guard.
 * Entries are read lazily; all reads together may inflate at most
 * `limits.maxDecompressedBytes`.
 */
export function openZip(bytes: Uint8Array, limits: ExtractLimits, format: string): ZipArchive {
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b)
    throw new SluiceError('CORRUPT_FILE', `not a ${format} file (no ZIP signature)`);
  const list = inspectZip(bytes, limits);
  const entries = new Map(list.map((e) => [e.name, e]));
  let budget = limits.maxDecompressedBytes;
  const read = (name: string): Buffer => {
    const e = entries.get(name);
    if (!e) throw new SluiceError('CORRUPT_FILE', `${format} is missing its part ${name}`);
    const out = inflateEntry(bytes, e);
    budget -= out.length;
    if (budget < 0)
      throw new SluiceError('TOO_LARGE', `${format} inflates beyond ${limits.maxDecompressedBytes} bytes`);
    return out;
  };
  return {
    entries,
    has: (name) => entries.has(name),
    read,
    readXml(name) {
      const buf = read(name);
      // UTF-16 parts exist in the wild (BOM FF FE / FE FF); OOXML, ODF and EPUB are UTF-8 otherwise.
      const text =
        buf[0] === 0xff && buf[1] === 0xfe
          ? buf.toString('utf16le')
          : buf[0] === 0xfe && buf[1] === 0xff
            ? new TextDecoder('utf-16be').decode(buf)
            : buf.toString('utf8');
      refuseDtd(text, `${format} part ${name}`);
      return text.replace(/^\uFEFF/, '');
    },
    readXmlBytes(name) {
      const buf = read(name);
      if (DTD_MARKERS.some((m) => buf.includes(m)))
        throw new SluiceError(
          'CORRUPT_FILE',
          `${format} part ${name} declares a DTD/entities (refused: entity bombs and XXE)`,
        );
      return buf;
    },
  };
}

/** Resolve a relationship target (`../media/x.png`) against the directory of `from`. */
export function resolvePart(from: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const parts = from.split('/').slice(0, -1);
  for (const seg of decodeURIComponent(target).split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/');
}
