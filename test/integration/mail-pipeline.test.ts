// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// E-mail through the real pipeline (issue 13): a message's headers reach document
// and chunk metadata; its attachments become documents of their own whose uri
// points inside the message and whose metadata names the parent; attachments of
// attachments are followed to SLUICE_MAX_ATTACHMENT_DEPTH and at most
// SLUICE_MAX_ATTACHMENTS per message are indexed; re-ingesting a message with fewer
// attachments or deleting it removes its children; Outlook .msg works the same way.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { FIXTURES, scratchDir } from '../helpers/corpus.ts';
import { message } from '../helpers/make-eml.ts';
import { makeReportPdf, PHRASE } from '../helpers/make-pdf.ts';
import { startPipeline, type TestPipeline, waitIdle } from '../helpers/pipeline.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const txt = (name: string, body: string) => ({ name, type: 'text/plain', data: enc(body) });

/** A chain of messages each forwarding the next; the innermost holds level-N.txt. */
function chain(levels: number): Uint8Array {
  let inner = message('level 5', 'innermost body', [
    txt('level-5.txt', 'the innermost attachment about ospreys'),
  ]);
  for (let i = levels - 1; i >= 1; i--) {
    inner = message(`level ${i}`, `body of level ${i}`, [
      { name: `level-${i + 1}.eml`, type: 'message/rfc822', data: inner },
    ]);
  }
  return inner;
}

let p: TestPipeline;
let dir: ReturnType<typeof scratchDir>;
const at = (name: string) => join(dir.dir, name);

interface Doc {
  id: number;
  uri: string;
  status: string;
  error_code: string | null;
  metadata: Record<string, unknown> & {
    parent?: string;
    attachments?: { name: string; uri?: string; skipped?: string }[];
  };
}

async function docs(): Promise<Map<string, Doc>> {
  const rows = await p.query<Doc>('SELECT id, uri, status, error_code, metadata FROM sluice.documents');
  return new Map(rows.map((r) => [r.uri, r]));
}

async function textOf(id: number): Promise<string> {
  const rows = await p.query<{ text: string }>(
    'SELECT text FROM sluice.chunks WHERE document_id = $1 ORDER BY ordinal',
    [id],
  );
  return rows.map((r) => r.text).join('\n');
}

beforeAll(async () => {
  dir = scratchDir('mail');
  const pdf = await makeReportPdf(3, 2);
  const fwd = message('Forwarded minutes', 'Minutes of the board meeting.', [
    txt('agenda.txt', 'Agenda item one is about the heron survey.'),
  ]);
  writeFileSync(
    at('message.eml'),
    message('Survey results', 'Dear Bob, the survey results are attached.', [
      txt('notes.txt', 'Field notes about kingfishers on the river.'),
      { name: 'report.pdf', type: 'application/pdf', data: pdf },
      { name: 'fwd.eml', type: 'message/rfc822', data: fwd },
      {
        name: 'logo.png',
        type: 'image/png',
        data: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      },
      txt('../../etc/passwd', 'Sanitised name attachment about grebes.'),
      txt('over-the-limit.txt', 'This attachment is past SLUICE_MAX_ATTACHMENTS.'),
    ]),
  );
  writeFileSync(at('chain.eml'), chain(5));
  cpSync(join(FIXTURES, 'msg/msgreader-msginmsg.msg'), at('outlook.msg'));
  p = await startPipeline({ label: 'mail', env: { SLUICE_MAX_ATTACHMENTS: '4' } });
  await p.ingestAndWait([dir.dir], { timeoutMs: 90_000 });
  await waitIdle(p, 90_000);
}, 150_000);

afterAll(async () => {
  await p?.close();
  dir?.cleanup();
});

describe('e-mail through the pipeline', () => {
  it('records the headers on the message and on its chunks', async () => {
    const msg = (await docs()).get(at('message.eml'))!;
    expect(msg.status).toBe('done');
    expect(msg.metadata).toMatchObject({
      from: 'Alice <alice@example.com>',
      to: ['bob@example.com'],
      subject: 'Survey results',
      date: '2024-10-01T12:34:56.000Z',
    });
    const [chunk] = await p.query<{ metadata: Record<string, unknown>; text: string }>(
      'SELECT metadata, text FROM sluice.chunks WHERE document_id = $1',
      [msg.id],
    );
    expect(chunk?.text).toContain('the survey results are attached');
    expect(chunk?.metadata).toMatchObject({
      heading_path: ['Survey results'],
      email: {
        from: 'Alice <alice@example.com>',
        subject: 'Survey results',
        date: '2024-10-01T12:34:56.000Z',
      },
    });
  });

  it('indexes each attachment as its own document linked to the message', async () => {
    const all = await docs();
    const msg = all.get(at('message.eml'))!;
    const notes = all.get(`${at('message.eml')}#attachment/0/notes.txt`);
    expect(notes?.status).toBe('done');
    expect(notes?.metadata.parent).toBe(at('message.eml'));
    expect(await textOf(notes!.id)).toContain('Field notes about kingfishers');
    const report = all.get(`${at('message.eml')}#attachment/1/report.pdf`);
    expect(report?.status).toBe('done');
    expect(await textOf(report!.id)).toContain(PHRASE);
    const passwd = all.get(`${at('message.eml')}#attachment/4/passwd`);
    expect(passwd?.status).toBe('done');
    const notesOnMessage = msg.metadata.attachments!;
    expect(notesOnMessage.map((a) => a.uri ?? a.skipped)).toEqual([
      `${at('message.eml')}#attachment/0/notes.txt`,
      `${at('message.eml')}#attachment/1/report.pdf`,
      `${at('message.eml')}#attachment/2/fwd.eml`,
      expect.stringMatching(/^no extractor for /),
      `${at('message.eml')}#attachment/4/passwd`,
      'more than 4 attachments (SLUICE_MAX_ATTACHMENTS)',
    ]);
    expect([...all.keys()].filter((u) => u.includes('over-the-limit') || u.includes('logo.png'))).toEqual([]);
  });

  it('follows attachments of attachments, to SLUICE_MAX_ATTACHMENT_DEPTH levels', async () => {
    const all = await docs();
    const fwd = `${at('message.eml')}#attachment/2/fwd.eml`;
    expect(all.get(fwd)?.status).toBe('done');
    const agenda = all.get(`${fwd}/attachment/0/agenda.txt`);
    expect(agenda?.status).toBe('done');
    expect(agenda?.metadata.parent).toBe(fwd);
    expect(await textOf(agenda!.id)).toContain('heron survey');
    const level = (n: number) =>
      `${at('chain.eml')}#${Array.from({ length: n - 1 }, (_, i) => `attachment/0/level-${i + 2}.eml`).join('/')}`;
    expect(all.get(level(4))?.status).toBe('done'); // three levels below chain.eml
    expect(all.get(level(4))?.metadata.attachments?.[0]?.skipped).toMatch(/SLUICE_MAX_ATTACHMENT_DEPTH/);
    expect([...all.keys()].filter((u) => u.startsWith(level(5)))).toEqual([]);
  });

  it('finds attachment text with `sluice search`, the hit naming the attachment inside its message', async () => {
    const r = await runCli(['search', 'heron survey agenda item', '-k', '1', '--json'], { env: p.env });
    expect(r.code).toBe(0);
    const { results } = JSON.parse(r.stdout) as { results: { uri: string }[] };
    expect(results[0]?.uri).toBe(`${at('message.eml')}#attachment/2/fwd.eml/attachment/0/agenda.txt`);
  });

  it('reads Outlook .msg and its embedded message the same way', async () => {
    const all = await docs();
    const msg = all.get(at('outlook.msg'));
    expect(msg?.status).toBe('done');
    expect(msg?.metadata.subject).toBe('I have attachments!');
    const inner = all.get(`${at('outlook.msg')}#attachment/0/Microsoft Outlook テスト メッセージ.msg`);
    expect(inner?.status).toBe('done');
    expect(await textOf(inner!.id)).toContain('Microsoft Outlook から自動送信されたものです');
  });

  it('re-ingesting a message with fewer attachments deletes the children it lost', async () => {
    writeFileSync(
      at('message.eml'),
      message('Survey results', 'Dear Bob, only the notes now.', [
        txt('notes.txt', 'Field notes about kingfishers on the river.'),
      ]),
    );
    await p.ingestAndWait([at('message.eml')], { timeoutMs: 60_000 });
    await waitIdle(p);
    const all = await docs();
    expect(all.get(`${at('message.eml')}#attachment/0/notes.txt`)?.status).toBe('done');
    for (const gone of [
      '#attachment/1/report.pdf',
      '#attachment/2/fwd.eml',
      '#attachment/2/fwd.eml/attachment/0/agenda.txt',
    ]) {
      expect(all.get(`${at('message.eml')}${gone}`)?.status, gone).toBe('deleted');
    }
  });

  it('deleting a message deletes its attachments and their chunks', async () => {
    const r = await runCli(['delete', at('chain.eml')], { env: p.env });
    expect(r.code).toBe(0);
    const left = await p.query<{ n: string }>(
      `SELECT count(*) AS n FROM sluice.documents d LEFT JOIN sluice.chunks c ON c.document_id = d.id
       WHERE starts_with(d.uri, $1) AND (d.status <> 'deleted' OR c.id IS NOT NULL)`,
      [at('chain.eml')],
    );
    expect(Number(left[0]?.n)).toBe(0);
  });
});
