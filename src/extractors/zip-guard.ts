// Zip-bomb and path-traversal guard for ZIP containers (DOCX), run before any parser
// sees the bytes. It reads only the central directory (the archive's table of
// contents), never inflates an entry, so checking a bomb costs microseconds.
import { SluiceError } from '../errors.ts';

/** One central-directory entry as declared by the archive (sizes may lie; see docx.ts). */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** Limits for {@link inspectZip}; a subset of ExtractLimits. */
export interface ZipLimits {
  maxDecompressedBytes: number;
  maxCompressionRatio: number;
  /** Most entries accepted; an OOXML file has tens, a bomb can declare millions. */
  maxEntries?: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
/** Entries smaller than this cannot amplify memory meaningfully, whatever their ratio. */
const RATIO_FLOOR_BYTES = 64 * 1024;

const corrupt = (why: string): SluiceError => new SluiceError('CORRUPT_FILE', `broken ZIP container: ${why}`);

/** Whether an entry name would land outside the extraction root (`../`, absolute, drive). */
export function escapesArchive(name: string): boolean {
  if (name.includes('\0')) return true;
  if (/^([/\\]|[A-Za-z]:)/.test(name)) return true;
  return name.split(/[/\\]/).some((part) => part === '..');
}

function findEocd(view: DataView): number {
  // The EOCD record is 22 bytes plus a comment of up to 65535 bytes, at the very end.
  const stop = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let i = view.byteLength - 22; i >= stop; i--) {
    if (view.getUint32(i, true) === EOCD) return i;
  }
  throw corrupt('no end-of-central-directory record (not a ZIP, or truncated)');
}

/** Offset, size and count of the central directory, reading the ZIP64 record when flagged. */
function directory(view: DataView): { offset: number; size: number; count: number } {
  const at = findEocd(view);
  let count = view.getUint16(at + 10, true);
  let size = view.getUint32(at + 12, true);
  let offset = view.getUint32(at + 16, true);
  if ((count === 0xffff || size === 0xffffffff || offset === 0xffffffff) && at >= 20) {
    if (view.getUint32(at - 20, true) !== ZIP64_LOCATOR) throw corrupt('ZIP64 locator missing');
    const z = Number(view.getBigUint64(at - 12, true));
    if (z + 56 > view.byteLength || view.getUint32(z, true) !== ZIP64_EOCD)
      throw corrupt('ZIP64 record out of range');
    count = Number(view.getBigUint64(z + 32, true));
    size = Number(view.getBigUint64(z + 40, true));
    offset = Number(view.getBigUint64(z + 48, true));
  }
  if (offset + size > view.byteLength) throw corrupt('central directory lies beyond the end of the file');
  return { offset, size, count };
}

/** ZIP64 extra field (id 1) values replace the 0xffffffff placeholders, in this order. */
function zip64Sizes(view: DataView, extra: number, len: number, e: ZipEntry): void {
  for (let p = extra; p + 4 <= extra + len; ) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (id === 1) {
      let q = p + 4;
      const next = (): number => {
        if (q + 8 > p + 4 + size) throw corrupt('short ZIP64 extra field');
        const v = Number(view.getBigUint64(q, true));
        q += 8;
        return v;
      };
      if (e.uncompressedSize === 0xffffffff) e.uncompressedSize = next();
      if (e.compressedSize === 0xffffffff) e.compressedSize = next();
      if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = next();
      return;
    }
    p += 4 + size;
  }
}

/** Parse the central directory. Throws CORRUPT_FILE when it is missing or inconsistent. */
export function readCentralDirectory(bytes: Uint8Array, maxEntries = 10_000): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 22) throw corrupt('file too short');
  const dir = directory(view);
  if (dir.count > maxEntries) {
    throw new SluiceError('TOO_LARGE', `ZIP declares ${dir.count} entries, limit ${maxEntries}`);
  }
  const entries: ZipEntry[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let p = dir.offset;
  for (let i = 0; i < dir.count; i++) {
    if (p + 46 > dir.offset + dir.size || view.getUint32(p, true) !== CENTRAL) {
      throw corrupt(`central directory entry ${i} is damaged`);
    }
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen + commentLen > dir.offset + dir.size)
      throw corrupt(`entry ${i} overruns the directory`);
    const e: ZipEntry = {
      name: decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen)),
      method: view.getUint16(p + 10, true),
      compressedSize: view.getUint32(p + 20, true),
      uncompressedSize: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
    };
    zip64Sizes(view, p + 46 + nameLen, extraLen, e);
    if (e.localHeaderOffset + 30 > bytes.byteLength)
      throw corrupt(`entry ${e.name} starts beyond the end of the file`);
    entries.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * Check a ZIP container against the limits without inflating anything: TOO_LARGE for a
 * declared total above `maxDecompressedBytes` or an entry compressed more than
 * `maxCompressionRatio`:1; CORRUPT_FILE for names escaping the archive or a broken directory.
 */
export function inspectZip(bytes: Uint8Array, limits: ZipLimits): ZipEntry[] {
  const entries = readCentralDirectory(bytes, limits.maxEntries);
  let total = 0;
  for (const e of entries) {
    if (escapesArchive(e.name))
      throw new SluiceError('CORRUPT_FILE', `ZIP entry name escapes the archive: ${JSON.stringify(e.name)}`);
    total += e.uncompressedSize;
    if (total > limits.maxDecompressedBytes) {
      throw new SluiceError(
        'TOO_LARGE',
        `ZIP declares over ${limits.maxDecompressedBytes} bytes uncompressed`,
      );
    }
    const ratio = e.uncompressedSize / Math.max(e.compressedSize, 1);
    if (e.uncompressedSize >= RATIO_FLOOR_BYTES && ratio > limits.maxCompressionRatio) {
      throw new SluiceError(
        'TOO_LARGE',
        `ZIP entry ${e.name} expands ${Math.round(ratio)}:1, limit ${limits.maxCompressionRatio}:1 (zip bomb?)`,
      );
    }
  }
  return entries;
}
