// Outlook .msg (an OLE compound file of MAPI properties) via @kenjiuno/msgreader:
// the plain body (or the HTML body through the HTML extractor when there is none),
// sender, recipients, subject and delivery time as metadata, and attachments —
// embedded messages come back as .msg files of their own — listed for the extract
// stage exactly as for EML (see eml.ts mailDocument, mail-attachments.ts).
import { SluiceError } from '../errors.ts';
import { type EmailHeaders, htmlBody, mailDocument } from './eml.ts';
import { describeAttachments, type RawAttachment } from './mail-attachments.ts';
import { MIME } from './sniff.ts';
import { checkInput } from './text-input.ts';
import type { Extractor, Section } from './types.ts';

/** The slice of msgreader's FieldsData this file reads. */
interface Fields {
  subject?: string;
  senderName?: string;
  senderEmail?: string;
  body?: string;
  bodyHtml?: string;
  html?: Uint8Array;
  messageDeliveryTime?: string;
  clientSubmitTime?: string;
  messageId?: string;
  recipients?: { name?: string; email?: string; recipType?: 'to' | 'cc' | 'bcc' }[];
  attachments?: Fields[];
  fileName?: string;
  error?: string;
}
interface Reader {
  getFileData(): Fields;
  getAttachment(attach: Fields): { fileName: string; content: Uint8Array };
}

/** Outlook message extractor; see the file header. */
export const msgExtractor: Extractor = {
  name: 'msg',
  version: 1,
  mimeTypes: [MIME.msg],
  async extract(input) {
    checkInput(input);
    const { reader, fields } = await open(input.bytes);
    const raw = readAttachments(reader, fields);
    const attachments = await describeAttachments(raw);
    let body: Section[] = fields.body?.trim() ? [{ text: fields.body }] : [];
    const html = fields.bodyHtml ?? (fields.html ? new TextDecoder().decode(fields.html) : undefined);
    if (body.length === 0 && html) body = await htmlBody(html, input);
    return mailDocument(headersOf(fields), body, attachments, input, raw.length);
  },
};

/** The attachments of a .msg file, in the order metadata.attachments lists them. */
export async function msgAttachments(bytes: Uint8Array): Promise<RawAttachment[]> {
  const { reader, fields } = await open(bytes);
  return readAttachments(reader, fields);
}

async function open(bytes: Uint8Array): Promise<{ reader: Reader; fields: Fields }> {
  const mod = (await import('@kenjiuno/msgreader')) as unknown as { default: unknown };
  // CommonJS compiled from TypeScript: the class is `default` of the module's default.
  const MsgReader = ((mod.default as { default?: unknown }).default ?? mod.default) as new (
    buffer: ArrayBuffer | DataView,
  ) => Reader;
  try {
    const reader = new MsgReader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const fields = reader.getFileData();
    if (fields.error) throw new Error(fields.error);
    return { reader, fields };
  } catch (err) {
    throw new SluiceError('CORRUPT_FILE', `cannot read the Outlook message: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function readAttachments(reader: Reader, fields: Fields): RawAttachment[] {
  return (fields.attachments ?? []).map((a) => {
    const { fileName, content } = reader.getAttachment(a);
    return { filename: fileName || a.fileName, content };
  });
}

function headersOf(f: Fields): EmailHeaders {
  const h: EmailHeaders = {};
  const from =
    f.senderEmail && f.senderName && f.senderName !== f.senderEmail
      ? `${f.senderName} <${f.senderEmail}>`
      : (f.senderEmail ?? f.senderName);
  if (from) h.from = from;
  const people = (type: string) =>
    (f.recipients ?? [])
      .filter((r) => (r.recipType ?? 'to') === type)
      .map((r) =>
        r.email && r.name && r.name !== r.email ? `${r.name} <${r.email}>` : (r.email ?? r.name ?? ''),
      )
      .filter(Boolean)
      .slice(0, 500);
  const to = people('to');
  if (to.length > 0) h.to = to;
  const cc = people('cc');
  if (cc.length > 0) h.cc = cc;
  const when = f.messageDeliveryTime ?? f.clientSubmitTime;
  const date = when ? new Date(when) : undefined;
  if (date && !Number.isNaN(date.getTime())) h.date = date.toISOString();
  if (f.subject) h.subject = f.subject.replace(/\s+/g, ' ').trim().slice(0, 1000);
  if (f.messageId) h.messageId = f.messageId.trim().slice(0, 1000);
  return h;
}
