// E-mail messages built in tests: a multipart/mixed message with a text body and
// base64 attachments (for nesting, pass another message as a message/rfc822 attachment).

/** A multipart message with a text body and the given attachments. */
export function message(
  subject: string,
  body: string,
  attachments: { name: string; type: string; data: Uint8Array }[],
) {
  const b = `b-${subject.replace(/\W/g, '')}`;
  const parts = attachments.map(
    (a) =>
      `--${b}\r\nContent-Type: ${a.type}; name="${a.name}"\r\nContent-Transfer-Encoding: base64\r\n` +
      `Content-Disposition: attachment; filename="${a.name}"\r\n\r\n${Buffer.from(a.data).toString('base64')}\r\n`,
  );
  return new TextEncoder().encode(
    `From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\nDate: Tue, 01 Oct 2024 12:34:56 +0000\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n${parts.join('')}--${b}--\r\n`,
  );
}
