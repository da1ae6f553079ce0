// EML and MSG extractors: the shared contract, real messages from the corpus
// (plain, multipart, quoted-printable ISO-8859-1 HTML, malformed encoding, PGP
// encrypted, mbox envelope line), headers as metadata, attachments listed with
// their sniffed types, and attachmentAt walking nested messages.
import { describe, expect, it } from 'vitest';
import { emlExtractor } from '../../../src/extractors/eml.ts';
import {
  type AttachmentInfo,
  attachmentAt,
  childUri,
  parentOf,
  parseAttachmentUri,
  sanitiseName,
} from '../../../src/extractors/mail-attachments.ts';
import { msgExtractor } from '../../../src/extractors/msg.ts';
import { MIME, sniffType } from '../../../src/extractors/sniff.ts';
import { DEFAULT_LIMITS, type ExtractedDocument } from '../../../src/extractors/types.ts';
import { message } from '../../helpers/make-eml.ts';
import { runExtractorContract } from './contract.ts';
import { fixture } from './fixtures.ts';

const text = (doc: ExtractedDocument) => doc.sections.map((s) => s.text).join('\n');
const extract = (path: string) => {
  const bytes = fixture(path);
  return (path.endsWith('.msg') ? msgExtractor : emlExtractor).extract({
    bytes,
    mime: path.endsWith('.msg') ? MIME.msg : MIME.eml,
    limits: DEFAULT_LIMITS,
  });
};

runExtractorContract(emlExtractor, { sample: fixture('eml/uns-fake-email.eml'), mime: MIME.eml });
runExtractorContract(msgExtractor, { sample: fixture('msg/msgreader-msginmsg.msg'), mime: MIME.msg });

describe('sniffing mail', () => {
  it('recognises .eml by its header block, mbox envelope line included, whatever the name', async () => {
    expect(await sniffType(fixture('eml/uns-fake-email.eml'), 'x.txt')).toBe(MIME.eml);
    expect(await sniffType(fixture('eml/uns-simple-rfc-822.eml'))).toBe(MIME.eml);
    expect(await sniffType(fixture('eml/uns-email-no-utf8-2014-03-17.111517.eml'))).toBe(MIME.eml);
    expect(await sniffType(new TextEncoder().encode('Note: a colon line\n\nplain text'), 'a.txt')).toBe(
      MIME.text,
    );
  });

  it('recognises Outlook .msg among OLE files', async () => {
    expect(await sniffType(fixture('msg/msgreader-simple.msg'))).toBe(MIME.msg);
    // An encrypted OOXML package is an OLE file too, and is not taken for mail.
    expect(await sniffType(fixture('docx/tika-testWORD_protected_passtika.docx'))).toBe(MIME.encryptedOffice);
  });
});

describe('emlExtractor', () => {
  it('reads the text part, with headers as metadata and in every section', async () => {
    const doc = await extract('eml/uns-fake-email.eml');
    expect(text(doc)).toContain('This is a test email to use for unit tests.');
    expect(text(doc)).toMatch(/Roses are red\s+- Violets are blue/);
    expect(doc.title).toBe('Test Email');
    expect(doc.metadata).toMatchObject({
      from: 'Matthew Robinson <mrobinson@unstructured.io>',
      to: ['NotMatthew <NotMatthew@notunstructured.com>'],
      subject: 'Test Email',
      date: '2022-12-16T22:04:16.000Z',
      messageId: '<CADc-_xaLB2FeVQ7mNsoX+NJb_7hAJhBKa_zet-rtgPGenj0uVw@mail.gmail.com>',
      attachments: [],
    });
    for (const s of doc.sections) {
      expect(s.headingPath?.[0]).toBe('Test Email');
      expect(s.metadata?.email).toMatchObject({
        from: 'Matthew Robinson <mrobinson@unstructured.io>',
        subject: 'Test Email',
      });
    }
  });

  it('decodes a malformed transfer encoding and quoted-printable ISO-8859-1', async () => {
    expect(text(await extract('eml/uns-fake-email-malformed-encoding.eml'))).toContain('Violets are blue');
    const google = await extract('eml/uns-email-no-utf8-2014-03-17.111517.eml');
    expect(text(google)).toMatch(/The password for your Google Account/);
    expect(text(google)).toContain("If you made this change, you don't need to do anything more.");
    expect(text(google)).not.toMatch(/=\r?\n|=3D/); // no quoted-printable left
  });

  it('reads the HTML part through the HTML extractor when there is no text part', async () => {
    const bytes = new TextEncoder().encode(
      'From: a@example.com\r\nSubject: Only HTML\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=iso-8859-1\r\n' +
        'Content-Transfer-Encoding: quoted-printable\r\n\r\n<html><body><h1>Caf=E9 menu</h1><script>evil()</script>' +
        '<p>Cr=E8me br=FBl=E9e today</p></body></html>\r\n',
    );
    const doc = await emlExtractor.extract({ bytes, mime: MIME.eml, limits: DEFAULT_LIMITS });
    expect(text(doc)).toContain('Crème brûlée today');
    expect(text(doc)).not.toContain('evil');
    expect(doc.sections.at(-1)?.headingPath).toEqual(['Only HTML', 'Café menu']);
  });

  it('fails an encrypted message ENCRYPTED, saying what to do', async () => {
    await expect(extract('eml/uns-fake-encrypted.eml')).rejects.toMatchObject({
      code: 'ENCRYPTED',
      message: expect.stringMatching(/decrypt/),
    });
  });

  it('lists attachments with sanitised names, sniffed types, sizes and hashes', async () => {
    const doc = await extract('eml/docling-eml_with_attachment.eml');
    const [a] = doc.metadata.attachments as AttachmentInfo[];
    expect(a).toMatchObject({ index: 0, name: 'test.txt', mime: MIME.text, bytes: 64 });
    expect(a?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const bytes = await attachmentAt(fixture('eml/docling-eml_with_attachment.eml'), [0]);
    expect(new TextDecoder().decode(bytes)).toContain('This is a test attachment file.');
  });

  it('keeps a message with only attachments findable by its headers', async () => {
    const bytes = message('Quarterly report', '', [
      { name: 'r.txt', type: 'text/plain', data: new TextEncoder().encode('numbers') },
    ]);
    const doc = await emlExtractor.extract({ bytes, mime: MIME.eml, limits: DEFAULT_LIMITS });
    expect(text(doc)).toMatch(/Subject: Quarterly report[\s\S]*Attachments: r\.txt/);
  });

  it('walks attachments of attachments', async () => {
    const inner = message('inner', 'inner body', [
      { name: 'deep.txt', type: 'text/plain', data: new TextEncoder().encode('deepest words') },
    ]);
    const outer = message('outer', 'outer body', [{ name: 'fwd.eml', type: 'message/rfc822', data: inner }]);
    const doc = await emlExtractor.extract({ bytes: outer, mime: MIME.eml, limits: DEFAULT_LIMITS });
    expect((doc.metadata.attachments as AttachmentInfo[])[0]).toMatchObject({
      name: 'fwd.eml',
      mime: MIME.eml,
    });
    expect(new TextDecoder().decode(await attachmentAt(outer, [0, 0]))).toBe('deepest words');
    await expect(attachmentAt(outer, [3])).rejects.toMatchObject({ code: 'SOURCE_MISSING' });
    await expect(attachmentAt(outer, [0, 0, 0])).rejects.toMatchObject({ code: 'SOURCE_MISSING' });
  });
});

describe('msgExtractor', () => {
  it('reads body, subject and date, and lists the embedded message as a .msg attachment', async () => {
    const doc = await extract('msg/msgreader-msginmsg.msg');
    expect(text(doc)).toContain('I have attachments!');
    expect(doc.metadata).toMatchObject({ subject: 'I have attachments!', date: '2020-09-10T10:18:08.000Z' });
    const list = doc.metadata.attachments as AttachmentInfo[];
    expect(list.map((a) => [a.name, a.mime])).toEqual([
      ['Microsoft Outlook テスト メッセージ.msg', MIME.msg],
      ['green.png', 'image/png'],
    ]);
    const inner = await attachmentAt(fixture('msg/msgreader-msginmsg.msg'), [0]);
    const innerDoc = await msgExtractor.extract({ bytes: inner, mime: MIME.msg, limits: DEFAULT_LIMITS });
    expect(text(innerDoc)).toContain('Microsoft Outlook から自動送信されたものです');
    expect(innerDoc.metadata.to).toEqual(['xmailuser <xmailuser@xmailserver.test>']);
  });
});

describe('attachment uris', () => {
  it('point inside the parent and back', () => {
    const child = childUri('/m/a.eml', { index: 2, name: 'fwd.eml' });
    expect(child).toBe('/m/a.eml#attachment/2/fwd.eml');
    const grandchild = childUri(child, { index: 0, name: 'r.pdf' });
    expect(grandchild).toBe('/m/a.eml#attachment/2/fwd.eml/attachment/0/r.pdf');
    expect(parseAttachmentUri(grandchild)).toEqual({ root: '/m/a.eml', path: [2, 0] });
    expect(parentOf(grandchild)).toBe(child);
    expect(parentOf(child)).toBe('/m/a.eml');
    expect(parentOf('/m/a.eml')).toBeUndefined();
  });

  it('sanitise names: no separators, controls, # or %, never empty', () => {
    expect(sanitiseName('../../etc/passwd', 0)).toBe('passwd');
    expect(sanitiseName('C:\\evil\\a#b%c?.pdf', 1)).toBe('abc.pdf');
    expect(sanitiseName('\u0000\u202e', 3)).toBe('attachment-3');
    expect(sanitiseName('x'.repeat(500), 0)).toHaveLength(100);
  });
});
