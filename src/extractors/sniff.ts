// Content-type sniffing: magic bytes first (via file-type), then text heuristics on
// the first 64 KB. The file name is only a tie-breaker between text flavours: a
// ".pdf" that is really HTML is HTML, and binary garbage named ".md" stays binary.
import { bomOf, utf16ByNulPattern } from './charset.ts';
import { decodeEbcdic, detectEbcdic } from './ebcdic.ts';

/** The content types sluice produces; use these strings rather than literals. */
export const MIME = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  doc: 'application/msword',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  encryptedOffice: 'application/x-encrypted-office',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  epub: 'application/epub+zip',
  rtf: 'application/rtf',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  zip: 'application/zip',
  xml: 'application/xml',
  html: 'text/html',
  markdown: 'text/markdown',
  text: 'text/plain',
  octet: 'application/octet-stream',
  eml: 'message/rfc822',
  msg: 'application/vnd.ms-outlook',
} as const;

/** Bytes examined by the text heuristics (files can be 100 MB). */
const SAMPLE_BYTES = 64 * 1024;

/** Tags that, opening a document, make it HTML. */
const HTML_START =
  /^(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|p|h[1-6]|div|table|ul|ol|br|hr|span|a|b|i|font|center|script|style|link|form|section|article|main)[\s/>]/i;
const HTML_ANYWHERE = /<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]/i;
const MD_EXTENSIONS = /\.(?:md|markdown|mdown|mkd|mdx)$/i;
const TEXT_EXTENSIONS = /\.(?:txt|text|log)$/i;
/** Delimited text: the extension breaks the tie with plain text, as for Markdown. */
const TABLE_EXTENSIONS: Record<string, string> = { '.csv': MIME.csv, '.tsv': MIME.tsv, '.tab': MIME.tsv };
/** Password-protected OOXML hides its type inside the encrypted package; the name is the only clue. */
const ENCRYPTED_BY_EXTENSION: Record<string, string> = {
  '.docx': MIME.docx,
  '.docm': MIME.docx,
  '.xlsx': MIME.xlsx,
  '.xlsm': MIME.xlsx,
  '.pptx': MIME.pptx,
  '.pptm': MIME.pptx,
};
/** Legacy binary Office files by the name of their main OLE stream (UTF-16 in the directory). */
const LEGACY_STREAMS: Array<[string, string]> = [
  ['WordDocument', MIME.doc],
  ['Workbook', MIME.xls],
  ['PowerPoint Document', MIME.ppt],
  ['Book', MIME.xls],
];
const LEGACY_BY_EXTENSION: Record<string, string> = { '.xls': MIME.xls, '.ppt': MIME.ppt, '.pps': MIME.ppt };

/** Binary types whose extension breaks the tie when the magic bytes say nothing. */
const BINARY_BY_EXTENSION: Record<string, string> = { '.pdf': MIME.pdf, '.docx': MIME.docx };
const extOf = (name: string): string => /\.[^./\\]+$/.exec(name.toLowerCase())?.[0] ?? '';
const hasUtf16 = (bytes: Uint8Array, text: string): boolean =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(text, 0, 'utf16le');

/** Sniff the content type of `bytes`. `filename` only breaks ties (text flavours; unrecognised binary named .pdf/.docx). */
export async function sniffType(bytes: Uint8Array, filename?: string): Promise<string> {
  if (bytes.length === 0) return filename && MD_EXTENSIONS.test(filename) ? MIME.markdown : MIME.text;
  const { fileTypeFromBuffer } = await import('file-type');
  const found = await fileTypeFromBuffer(bytes).catch(() => undefined);
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  if (found) {
    // Outlook .msg is an OLE file whose property streams are named __substg1.0_*.
    if (found.mime === 'application/x-cfb' && hasUtf16(bytes, '__substg1.0_')) return MIME.msg;
    if (found.mime === 'application/x-cfb') return oleType(bytes, filename);
    if (found.mime !== MIME.xml && found.mime !== 'text/xml') return found.mime;
  }
  const head = textHead(sample);
  // Unrecognised binary named .pdf/.docx goes to that extractor and fails CORRUPT_FILE.
  if (head === undefined) return (filename && BINARY_BY_EXTENSION[extOf(filename)]) || MIME.octet;
  const start = head.replace(/^[\s\uFEFF]+/, '');
  if (HTML_START.test(start)) return MIME.html;
  if (looksLikeEmail(start)) return MIME.eml;
  if (found) return HTML_ANYWHERE.test(start.slice(0, 2048)) ? MIME.html : found.mime;
  if (filename && MD_EXTENSIONS.test(filename)) return MIME.markdown;
  const table = filename && TABLE_EXTENSIONS[extOf(filename)];
  if (table) return table;
  if (HTML_ANYWHERE.test(start.slice(0, 1024))) return MIME.html;
  const threshold = filename && TEXT_EXTENSIONS.test(filename) ? 4 : 2;
  return markdownScore(start) >= threshold ? MIME.markdown : MIME.text;
}

/**
 * An OLE (compound file) container: password-protected OOXML (an EncryptedPackage
 * stream; its format only by name) or a legacy binary .doc/.xls/.ppt, so each is
 * refused with advice for its own format.
 */
function oleType(bytes: Uint8Array, filename?: string): string {
  const ext = filename ? extOf(filename) : '';
  if (hasUtf16(bytes, 'EncryptedPackage')) return ENCRYPTED_BY_EXTENSION[ext] ?? MIME.encryptedOffice;
  return (
    LEGACY_STREAMS.find(([stream]) => hasUtf16(bytes, stream))?.[1] ?? LEGACY_BY_EXTENSION[ext] ?? MIME.doc
  );
}

/**
 * The sample as a string if it looks like text, else undefined. Only a rough
 * decode: the extractors decode properly (see charset.ts).
 */
export function textHead(sample: Uint8Array): string | undefined {
  const bom = bomOf(sample);
  const utf16 = bom?.charset.startsWith('utf-16') ? bom.charset : utf16ByNulPattern(sample);
  if (utf16) return new TextDecoder(utf16).decode(sample);
  const body = bom ? sample.subarray(bom.length) : sample;
  // EBCDIC line ends (NEL, 0x15) are C0 bytes in ASCII terms: recognise it first.
  const ebcdic = bom ? undefined : detectEbcdic(body);
  if (ebcdic) return decodeEbcdic(body, ebcdic);
  const ratio = controlRatio(body);
  let text: string;
  try {
    // stream: true tolerates a multi-byte character cut off by the sample boundary.
    text = new TextDecoder('utf-8', { fatal: true }).decode(body, { stream: true });
  } catch {
    text = new TextDecoder('windows-1252').decode(body);
  }
  // Markup pasted from mail clients carries stray control bytes; prose does not.
  const limit = HTML_START.test(text.replace(/^\s+/, '')) ? 0.1 : 0.02;
  return ratio <= limit ? text : undefined;
}

/** Share of bytes that are C0 controls other than tab, LF, FF, CR and ESC. */
function controlRatio(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let n = 0;
  for (const b of bytes) {
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 12 && b !== 13 && b !== 0x1b) || b === 0x7f) n++;
  }
  return n / bytes.length;
}

/** Header fields that open an e-mail message (RFC 5322) or an mbox-style export of one. */
const MAIL_HEADERS =
  /^(?:from|to|cc|subject|date|message-id|mime-version|received|return-path|delivered-to|reply-to|sender|x-[a-z0-9-]+|dkim-signature|content-type|content-transfer-encoding|references|in-reply-to|thread-index|authentication-results|arc-[a-z-]+)$/i;

/**
 * An e-mail starts with a block of `Name: value` header lines (continued by indented
 * lines) ending in a blank line, with at least two of the fields a message has
 * (From, To, Subject, Date, Message-ID, MIME-Version, Received...).
 */
export function looksLikeEmail(text: string): boolean {
  // An mbox export starts with a "From sender date" envelope line before the headers.
  const head = text.slice(0, 32 * 1024).replace(/^From [^\r\n]*\r?\n/, '');
  // Without a blank line in the window (huge headers), judge the complete lines in it.
  const end = head.search(/\r?\n\r?\n/);
  const block = end >= 0 ? head.slice(0, end) : head.slice(0, Math.max(0, head.lastIndexOf('\n')));
  let known = 0;
  const essential = new Set<string>();
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) continue; // folded continuation
    const m = /^([!-9;-~]+):/.exec(line);
    if (!m) return false;
    const name = m[1]!.toLowerCase();
    if (MAIL_HEADERS.test(name)) known++;
    if (['from', 'to', 'subject', 'date', 'message-id', 'mime-version'].includes(name)) essential.add(name);
  }
  return known >= 2 && essential.size >= 2;
}

/** Rough count of Markdown constructs: headings, fences, links, front matter, setext. */
export function markdownScore(text: string): number {
  const sample = text.slice(0, 16 * 1024);
  let score = 0;
  if (/^---\r?\n[\s\S]*?\r?\n---\r?\n/.test(sample)) score += 3;
  score += count(sample, /^#{1,6}[ \t]+\S/gm);
  score += 2 * count(sample, /^(?:```|~~~)/gm);
  score += count(sample, /\[[^\]\n]+\]\([^)\s]+\)/g);
  score += count(sample, /^\S[^\n]*\r?\n(?:=+|-{3,})[ \t]*$/gm);
  score += count(sample, /^\|[^\n]*\|[ \t]*\r?\n\|[ \t:|-]+\|/gm) * 2;
  return score;
}

function count(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}
