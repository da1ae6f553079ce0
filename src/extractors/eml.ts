// message/rfc822 (.eml) via postal-mime: every transfer encoding (base64, quoted-
// printable, 7/8-bit) and charset decoded, encoded-word headers too. The text part is
// the body; a message with only an HTML part goes through the HTML extractor. From,
// to, cc, date, subject and message-id become document metadata (and chunk metadata
// under `email`); attachments are listed for the extract stage, which indexes each
// as its own document (see mail-attachments.ts). Encrypted bodies fail ENCRYPTED.
import { SluiceError } from '../errors.ts';
import { htmlExtractor } from './html.ts';
import { type AttachmentInfo, describeAttachments, type RawAttachment } from './mail-attachments.ts';
import { looksLikeEmail, MIME } from './sniff.ts';
import { checkAborted, checkInput, finishDocument } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';

/** Bounds handed to postal-mime: deeper or bigger than this is hostile, not mail. */
const PARSE_LIMITS = { maxNestingDepth: 50, maxHeadersSize: 1024 * 1024, maxRfc822NestingDepth: 5 };

/** The slice of postal-mime's Email this file reads. */
interface Address {
  name: string;
  address?: string | undefined;
  group?: Address[] | undefined;
}
interface ParsedEmail {
  headers: { key: string; value: string }[];
  from?: Address | undefined;
  to?: Address[] | undefined;
  cc?: Address[] | undefined;
  subject?: string | undefined;
  messageId?: string | undefined;
  date?: string | undefined;
  html?: string | undefined;
  text?: string | undefined;
  attachments: {
    filename: string | null;
    mimeType: string;
    related?: boolean | undefined;
    content: ArrayBuffer | Uint8Array | string;
  }[];
}

/** The header fields recorded as metadata, by the names users query. */
export interface EmailHeaders {
  from?: string;
  to?: string[];
  cc?: string[];
  date?: string;
  subject?: string;
  messageId?: string;
}

/** E-mail extractor; see the file header. */
export const emlExtractor: Extractor = {
  name: 'eml',
  version: 1,
  mimeTypes: [MIME.eml],
  async extract(input) {
    checkInput(input);
    // postal-mime reads anything as a message; a file without a header block is not one.
    const head = Buffer.from(
      input.bytes.buffer,
      input.bytes.byteOffset,
      Math.min(input.bytes.byteLength, 32_768),
    );
    if (!looksLikeEmail(head.toString('latin1'))) {
      throw new SluiceError(
        'CORRUPT_FILE',
        'not an e-mail message: it does not start with a block of header fields',
      );
    }
    const email = await parseEmail(input.bytes);
    checkAborted(input.signal);
    const headers = headersOf(email);
    const contentType = email.headers.find((h) => h.key === 'content-type')?.value ?? '';
    if (/multipart\/encrypted|application\/(?:x-)?pkcs7-mime/i.test(contentType)) {
      throw new SluiceError(
        'ENCRYPTED',
        'the message body is encrypted (PGP/MIME or S/MIME); decrypt it in a mail client and ingest the decrypted message',
      );
    }
    const raw = attachmentsOf(email);
    const attachments = await describeAttachments(raw);
    const sections = await bodySections(email, input);
    return mailDocument(headers, sections, attachments, input, raw.length);
  },
};

/** Assemble a mail document (EML or MSG): body sections tagged with the headers, or a header summary when the body is empty. */
export function mailDocument(
  headers: EmailHeaders,
  body: Section[],
  attachments: AttachmentInfo[],
  input: ExtractInput,
  attachmentCount = attachments.length,
): ExtractedDocument {
  // Every chunk carries these: a few recipients, not a mailing list's thousands.
  const email = {
    from: headers.from,
    to: headers.to?.slice(0, 20),
    date: headers.date,
    subject: headers.subject,
  };
  const headingPath = headers.subject ? [headers.subject] : [];
  let sections = body.map((s) => ({
    ...s,
    headingPath: [...headingPath, ...(s.headingPath ?? [])],
    metadata: { email },
  }));
  if (!sections.some((s) => /\S/.test(s.text))) {
    // An empty body (only attachments) still makes the message findable by its headers.
    const lines = [
      headers.subject && `Subject: ${headers.subject}`,
      headers.from && `From: ${headers.from}`,
      headers.to?.length && `To: ${headers.to.join(', ')}`,
      attachments.length > 0 && `Attachments: ${attachments.map((a) => a.name).join(', ')}`,
    ].filter(Boolean);
    sections = [{ text: lines.join('\n'), headingPath, metadata: { email } }];
  }
  const metadata: Record<string, unknown> = { ...headers, attachments, attachmentCount };
  return finishDocument(
    { ...(headers.subject ? { title: headers.subject } : {}), metadata, sections },
    input.limits,
  );
}

/** The attachments of an .eml file, in the order metadata.attachments lists them. */
export async function emlAttachments(bytes: Uint8Array): Promise<RawAttachment[]> {
  return attachmentsOf(await parseEmail(bytes));
}

async function parseEmail(bytes: Uint8Array): Promise<ParsedEmail> {
  const { default: PostalMime } = await import('postal-mime');
  try {
    return (await PostalMime.parse(bytes, {
      attachmentEncoding: 'arraybuffer',
      // A forwarded message without a disposition is a document of its own, not body text.
      rfc822Attachments: true,
      ...PARSE_LIMITS,
    })) as ParsedEmail;
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const code = /maximum/i.test(message) ? 'TOO_LARGE' : 'CORRUPT_FILE';
    throw new SluiceError(code, `cannot parse the e-mail message: ${message}`, { cause: err });
  }
}

/** Attachments worth indexing: not images embedded in the HTML, not signatures. */
function attachmentsOf(email: ParsedEmail): RawAttachment[] {
  return email.attachments
    .filter((a) => !a.related && !/^application\/(?:pgp|(?:x-)?pkcs7)-signature$/i.test(a.mimeType))
    .map((a) => ({
      filename: a.filename,
      content:
        typeof a.content === 'string'
          ? new TextEncoder().encode(a.content)
          : a.content instanceof Uint8Array
            ? a.content
            : new Uint8Array(a.content),
    }));
}

/** The text part; the HTML part through the HTML extractor when there is no text part. */
async function bodySections(email: ParsedEmail, input: ExtractInput): Promise<Section[]> {
  const plainPart = email.text !== undefined && !(email.html && !hasPlainPart(input.bytes));
  if (plainPart) return [{ text: email.text ?? '' }];
  return email.html ? htmlBody(email.html, input) : [];
}

/** A message's HTML body through the HTML extractor (no sections when it holds no text). */
export async function htmlBody(html: string, input: ExtractInput): Promise<Section[]> {
  // The BOM makes the decoder take UTF-8 whatever charset the HTML's <meta> declares.
  const bytes = new TextEncoder().encode(`\uFEFF${html}`);
  try {
    return (await htmlExtractor.extract({ ...input, bytes, mime: MIME.html })).sections;
  } catch (err) {
    if ((err as SluiceError).code === 'NO_TEXT') return [];
    throw err;
  }
}

/** postal-mime converts HTML to text when there is no text part; the raw message says whether one existed. */
function hasPlainPart(bytes: Uint8Array): boolean {
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return /^content-type:[ \t]*text\/plain/im.test(raw);
}

function headersOf(email: ParsedEmail): EmailHeaders {
  const h: EmailHeaders = {};
  const from = email.from ? formatAddresses([email.from])[0] : undefined;
  if (from) h.from = from;
  const to = formatAddresses(email.to ?? []);
  if (to.length > 0) h.to = to;
  const cc = formatAddresses(email.cc ?? []);
  if (cc.length > 0) h.cc = cc;
  if (email.date) h.date = email.date;
  if (email.subject) h.subject = email.subject.replace(/\s+/g, ' ').trim().slice(0, 1000);
  if (email.messageId) h.messageId = email.messageId.trim().slice(0, 1000);
  return h;
}

/** "Name <address>" strings; groups flattened; at most 500 (a header can list thousands). */
export function formatAddresses(list: readonly Address[]): string[] {
  const out: string[] = [];
  const stack = [...list].reverse();
  while (stack.length > 0 && out.length < 500) {
    const a = stack.pop()!;
    if (a.group) {
      for (let i = a.group.length - 1; i >= 0; i--) stack.push(a.group[i]!);
      continue;
    }
    const name = a.name.replace(/\s+/g, ' ').trim();
    const text = a.address ? (name && name !== a.address ? `${name} <${a.address}>` : a.address) : name;
    if (text) out.push(text.slice(0, 500));
  }
  return out;
}
