// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// An S3 prefix as a source, against a real S3-speaking server (fauxqs from npm,
// on loopback) with the real pipeline: the index follows adds, changes and
// deletes; odd keys; pagination past 1,000 keys; an over-size object refused
// unread; an object deleted between listing and reading; the mass-delete guard;
// and two workers with no shared file system splitting bucket documents.
import { readFileSync } from 'node:fs';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListedObject } from '../../src/loaders/source-objects.ts';
import { sourceSummaries } from '../../src/loaders/sources.ts';
import { createLogger } from '../../src/log.ts';
import { ingestHashed } from '../../src/queue/producer.ts';
import { createRuntime, type Runtime } from '../../src/queue/runtime.ts';
import { createStageWorker } from '../../src/queue/worker.ts';
import { listS3, s3VersionHash } from '../../src/sources/s3.ts';
import { s3Client } from '../../src/sources/s3-client.ts';
import { createUploadRoutes } from '../../src/sources/upload.ts';
import { parseSpec, startWatching, type WatchHandle } from '../../src/sources/watch.ts';
import { runCli } from '../helpers/cli.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { startTestS3, type TestS3 } from '../helpers/s3-server.ts';
import { until } from '../helpers/until.ts';

let s3: TestS3;
let p: TestPipeline;
const handles: WatchHandle[] = [];
const BUCKET = 'sluice-docs';
const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');
const MAX = 100_000;
/** S3 commands this process sent, by name, with the key (observed on the real client). */
const sent: { command: string; key: string | undefined }[] = [];

beforeAll(async () => {
  s3 = await startTestS3();
  await s3.createBucket(BUCKET);
  p = await startPipeline({
    label: 'src-s3',
    env: { ...s3.env, SLUICE_S3_POLL_MS: '3600000', SLUICE_MAX_FILE_BYTES: String(MAX) },
  });
  const client = await s3Client(p.config);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? '?', key: (args.input as { Key?: string }).Key });
      return next(args);
    },
    { step: 'initialize', name: 'testRecorder' },
  );
});

afterAll(async () => {
  for (const h of handles) await h.close();
  await p?.close();
  await s3?.close();
});

async function doc(uri: string) {
  const [row] = await p.query<{
    id: string;
    status: string;
    content_hash: string | null;
    error_code: string | null;
    stage: string | null;
  }>('SELECT id, status, content_hash, error_code, stage FROM sluice.documents WHERE uri = $1', [uri]);
  return row;
}

async function chunkCount(uri: string): Promise<number> {
  const [r] = await p.query<{ n: string }>(
    'SELECT count(*) AS n FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id WHERE d.uri = $1',
    [uri],
  );
  return Number(r?.n ?? 0);
}

const isDone = async (uri: string) => (await doc(uri))?.status === 'done' && (await chunkCount(uri)) > 0;
const uri = (key: string) => `s3://${BUCKET}/${key}`;

async function watch(prefix: string): Promise<WatchHandle> {
  const h = await startWatching(p.rt, [parseSpec(uri(prefix), '/')], { collection: 'default' });
  await h.allActive();
  handles.push(h);
  return h;
}

const watcherOf = (h: WatchHandle) => [...h.active.values()][0]!;

describe('S3 bucket source', () => {
  it('follows adds, changes and deletes under a prefix, and nothing outside it', async () => {
    await s3.put(BUCKET, 'inbox/a.txt', `alpha\n${TEXT}`);
    await s3.put(BUCKET, 'inbox/nested/b.md', `# Beta\n\n${TEXT}`);
    await s3.put(BUCKET, 'inbox/c.txt', `gamma\n${TEXT}`);
    await s3.put(BUCKET, 'elsewhere/d.txt', `delta\n${TEXT}`);
    const h = await watch('inbox/');
    const w = watcherOf(h);
    await until(
      'three objects indexed',
      async () =>
        (await isDone(uri('inbox/a.txt'))) &&
        (await isDone(uri('inbox/nested/b.md'))) &&
        isDone(uri('inbox/c.txt')),
    );
    expect(await doc(uri('elsewhere/d.txt'))).toBeUndefined();

    const oldHash = (await doc(uri('inbox/a.txt')))!.content_hash;
    await s3.put(BUCKET, 'inbox/a.txt', `alpha, changed\n${TEXT}`);
    await s3.remove(BUCKET, 'inbox/c.txt');
    await w.reconcile();
    await until('change and delete followed', async () => {
      const a = await doc(uri('inbox/a.txt'));
      return (
        a?.status === 'done' &&
        a.content_hash !== oldHash &&
        (await doc(uri('inbox/c.txt')))?.status === 'deleted'
      );
    });
    expect(await chunkCount(uri('inbox/c.txt'))).toBe(0);
    // Nothing was downloaded to decide what changed: the poll only lists.
    const polls = sent.filter((s) => s.command === 'GetObjectCommand' && s.key === 'inbox/nested/b.md');
    expect(polls).toHaveLength(1); // the worker's one read of b.md
  });

  it('handles keys with spaces, unicode and +', async () => {
    const keys = ['odd/with space.txt', 'odd/ünïcødé 文書.md', 'odd/a+b=c&d.txt'];
    for (const k of keys) await s3.put(BUCKET, k, `${k}\n${TEXT}`);
    await watch('odd/');
    for (const k of keys) await until(`${k} indexed`, () => isDone(uri(k)));
    const [row] = await p.query<{ text: string }>(
      `SELECT c.text FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id WHERE d.uri = $1 AND c.ordinal = 0`,
      [uri('odd/a+b=c&d.txt')],
    );
    expect(row!.text).toContain('odd/a+b=c&d.txt');
  });

  it('lists more than 1,000 keys across pages', async () => {
    const keys = Array.from({ length: 1050 }, (_, i) => `many/doc-${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => s3.put(BUCKET, k, k)));
    }
    const listed: string[] = [];
    let pages = 0;
    for await (const page of listS3(p.config, { bucket: BUCKET, key: 'many/' })) {
      pages++;
      listed.push(...page.map((o) => o.key));
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(listed).toEqual(keys);
  });

  it('refuses an object over the size limit TOO_LARGE without downloading it', async () => {
    await s3.put(BUCKET, 'big/huge.txt', 'x'.repeat(MAX * 3));
    await s3.put(BUCKET, 'big/small.txt', `small\n${TEXT}`);
    await watch('big/');
    await until('small.txt indexed', () => isDone(uri('big/small.txt')));
    const big = await doc(uri('big/huge.txt'));
    expect(big).toMatchObject({ status: 'failed', error_code: 'TOO_LARGE' });
    expect(sent.filter((s) => s.key === 'big/huge.txt')).toEqual([]);
  });

  it('an object deleted between listing and reading ends deleted, not failed', async () => {
    await s3.put(BUCKET, 'gone/soon.txt', `soon gone\n${TEXT}`);
    let o: ListedObject | undefined;
    for await (const page of listS3(p.config, { bucket: BUCKET, key: 'gone/' })) o ??= page[0];
    if (!o) throw new Error('gone/soon.txt was not listed');
    await s3.remove(BUCKET, o.key);
    await ingestHashed(p.rt, [{ uri: o.uri, bytes: o.size, hash: s3VersionHash(o.etag!, o.size) }], {
      collection: 'default',
    });
    const goneUri = o.uri;
    await until('gone/soon.txt settled', async () => {
      const d = await doc(goneUri);
      return d && d.status !== 'queued' && d.status !== 'processing' ? d : undefined;
    });
    expect((await doc(goneUri))!.status).toBe('deleted');
  });

  it('a listing that suddenly comes back empty deletes nothing; the held deletions show and approving applies them', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `guarded/doc-${i}.txt`);
    for (const k of keys) await s3.put(BUCKET, k, `${k}\n${TEXT}`);
    const w = watcherOf(await watch('guarded/'));
    await until('12 objects indexed', async () =>
      (await Promise.all(keys.map((k) => isDone(uri(k))))).every(Boolean),
    );
    for (const k of keys) await s3.remove(BUCKET, k);
    await w.reconcile();
    expect(w.stats.held).toBe(12);
    for (const k of keys) expect((await doc(uri(k)))!.status).toBe('done');
    const summary = (await sourceSummaries(p.rt.pool)).find((s) => s.uri === uri('guarded/'));
    expect(summary).toMatchObject({ heldDeletes: 12, pendingDeletes: 0 });

    const env = { ...p.env, ...s3.env };
    const status = await runCli(['status', '--json'], { env });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).heldDeletions).toContainEqual(
      expect.objectContaining({ source: uri('guarded/'), held: 12 }),
    );
    const listing = await runCli(['sources'], { env });
    expect(listing.stdout).toContain('12 held');
    const approved = await runCli(['sources', 'approve-deletes', uri('guarded/'), '--json'], { env });
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ approved: 12, deleted: 12 });
    for (const k of keys) expect((await doc(uri(k)))!.status).toBe('deleted');
    expect((await sourceSummaries(p.rt.pool)).find((s) => s.uri === uri('guarded/'))?.heldDeletes).toBe(0);
  });

  it('an upload to a bucket inbox is put under the prefix and indexed from there', async () => {
    const rt: Runtime = { ...p.rt, config: { ...p.config, inbox: `s3://${BUCKET}/uploads/` } };
    const app = createUploadRoutes({ rt, cwd: '/nonexistent', token: undefined });
    const form = new FormData();
    form.append('file', new Blob([`bucket inbox upload\n${TEXT}`]), '../report.txt');
    const res = await app.request('/v1/documents', { method: 'POST', body: form });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: number; uri: string };
    expect(body.uri).toMatch(new RegExp(`^s3://${BUCKET}/uploads/default/[0-9a-f]+-report\\.txt$`));
    await until('uploaded object indexed', () => isDone(body.uri));
    const keys: string[] = [];
    for await (const page of listS3(p.config, { bucket: BUCKET, key: 'uploads/' }))
      keys.push(...page.map((o) => o.key));
    expect(keys).toEqual([body.uri.slice(`s3://${BUCKET}/`.length)]);
  });

  it('an S3 event on SQS lists the prefix at once, without waiting for the poll', async () => {
    const { SQSClient, CreateQueueCommand, SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const sqs = new SQSClient({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'sluice-events' }));
      // The poll interval is an hour here: only the event can make the new object show up.
      const rt: Runtime = { ...p.rt, config: { ...p.config, s3SqsUrl: QueueUrl!, awsEndpoint: s3.endpoint } };
      const h = await startWatching(rt, [parseSpec(uri('evented/'), '/')], { collection: 'default' });
      handles.push(h);
      await h.allActive();
      await s3.put(BUCKET, 'evented/new file.txt', `announced by an event\n${TEXT}`);
      // What S3 sends for a PUT (keys URL-encoded, spaces as +).
      const event = {
        Records: [
          {
            eventSource: 'aws:s3',
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: BUCKET }, object: { key: 'evented/new+file.txt', size: 10 } },
          },
        ],
      };
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(event) }));
      await until('evented object indexed', () => isDone(uri('evented/new file.txt')));
    } finally {
      sqs.destroy();
    }
  });

  it('two workers that share no file system both process bucket documents', async () => {
    // The pipeline's own extract worker steps aside; two separate runtimes take the stage.
    const own = p.workers!.workers.find((wk) => wk.name === 'extract')!;
    await own.pause();
    const runtimes: Runtime[] = [];
    const workers: Worker[] = [];
    const done = [0, 0];
    try {
      for (const i of [0, 1]) {
        // Each extraction is held 300 ms, so neither worker can take every job before the other starts.
        const config = { ...p.config, faultInjection: 'extract:before:300' };
        const rt = await createRuntime(config, { log: createLogger('error') });
        runtimes.push(rt);
        const wk = createStageWorker(rt, 'extract', { concurrency: 1 });
        wk.on('completed', () => done[i]!++);
        workers.push(wk);
      }
      await Promise.all(workers.map((wk) => wk.waitUntilReady()));
      const keys = Array.from({ length: 6 }, (_, i) => `shared/doc-${i}.txt`);
      for (const k of keys) await s3.put(BUCKET, k, `${k}\n${TEXT}`);
      await watch('shared/');
      await until('shared documents indexed', async () =>
        (await Promise.all(keys.map((k) => isDone(uri(k))))).every(Boolean),
      );
      expect(done[0]).toBeGreaterThan(0);
      expect(done[1]).toBeGreaterThan(0);
    } finally {
      for (const wk of workers) await wk.close();
      for (const rt of runtimes) await rt.close();
      own.resume();
    }
  });
});
