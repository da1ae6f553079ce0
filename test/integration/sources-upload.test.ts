// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// HTTP upload over a real socket (Hono on @hono/node-server) into a real inbox
// folder, queued to the real pipeline: ingested and searchable; over-size
// uploads refused 413 with nothing stored (declared and streamed); hostile file
// names stored safely with the original kept in metadata; the bearer token.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCollection, searchChunks } from '../../src/loaders/pgvector.ts';
import { createUploadRoutes } from '../../src/sources/upload.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const TOKEN = 'upload-test-token-123';
const MAX = 64 * 1024;
const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let base: string;
let server: ReturnType<typeof serve>;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  p = await startPipeline({ label: 'src-upload', env: { SLUICE_MAX_FILE_BYTES: String(MAX) } });
  scratch = scratchDir('upload');
  const app = createUploadRoutes({ rt: p.rt, cwd: scratch.dir, token: TOKEN });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(() => r(undefined)));
  await p?.close();
  scratch?.cleanup();
});

function form(name: string, body: string, fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('file', new Blob([body]), name);
  return f;
}

async function upload(f: FormData, headers: Record<string, string> = auth) {
  const res = await fetch(`${base}/v1/documents`, { method: 'POST', body: f, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const inboxFiles = (collection = 'default') => {
  const dir = join(scratch.dir, 'sluice-inbox', collection);
  return existsSync(dir) ? readdirSync(dir) : [];
};
const stagingFiles = () => readdirSync(join(scratch.dir, 'sluice-inbox', '.staging'));

/**
 * A POST on its own connection (a refused upload's connection may be closed
 * mid-body), tolerating the reset that can follow an early answer.
 */
function post(
  headers: Record<string, string>,
  chunks: Buffer[],
  query = '',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      `${base}/v1/documents${query}`,
      { method: 'POST', headers: { ...auth, ...headers }, agent: false },
      (res) => {
        answered = true;
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    for (const c of chunks) req.write(c);
    req.end();
  });
}

async function statusOf(id: unknown) {
  const res = await fetch(`${base}/v1/documents/${id}`, { headers: auth });
  return (await res.json()) as { status: string; metadata: Record<string, unknown>; uri: string };
}

describe('HTTP upload', () => {
  it('stores an upload in the inbox, queues it, and it becomes searchable', async () => {
    const res = await upload(
      form('dedication.txt', `zebra-quokka upload marker\n${TEXT}`, {
        metadata: JSON.stringify({ team: 'docs' }),
      }),
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', collection: 'default' });
    const done = await until('upload indexed', async () => {
      const s = await statusOf(res.body.id);
      return s.status === 'done' ? s : undefined;
    });
    expect(done.metadata).toMatchObject({ team: 'docs', upload: { originalName: 'dedication.txt' } });
    const collection = (await getCollection(p.rt.pool, 'default'))!;
    const [vector] = await p.rt.embedder.embed(['zebra-quokka upload marker']);
    const hits = await searchChunks(p.rt.pool, collection, vector!, 3);
    expect(hits[0]?.uri).toBe(done.uri);
  });

  it('takes a raw body with the file name and collection in the query', async () => {
    const res = await fetch(`${base}/v1/documents?filename=raw.md&collection=raw`, {
      method: 'POST',
      body: `# Raw\n\n${TEXT}`,
      headers: { ...auth, 'content-type': 'text/markdown' },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: number };
    await until('raw upload indexed', async () => (await statusOf(body.id)).status === 'done');
    expect(inboxFiles('raw')).toHaveLength(1);
  });

  it('refuses an over-size upload with 413 and stores nothing, declared or streamed', async () => {
    const before = inboxFiles();
    const docsBefore = await p.query('SELECT id FROM sluice.documents');
    const big = form('big.txt', 'x'.repeat(MAX * 4));
    const encoded = new Response(big);
    const bytes = Buffer.from(await encoded.arrayBuffer());
    const declared = await post(
      { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(bytes.byteLength) },
      [bytes],
    );
    expect(declared.status).toBe(413);
    // The same multipart body without a declared length: busboy's stream is cut at the limit.
    expect((await post({ 'content-type': encoded.headers.get('content-type')! }, [bytes])).status).toBe(413);
    // Chunked, no Content-Length: the limit is enforced while the body streams in.
    const chunks = Array.from({ length: 16 }, () => Buffer.alloc(16 * 1024, 'y'));
    const streamed = await post({ 'content-type': 'text/plain' }, chunks, '?filename=big-stream.txt');
    expect(streamed.status).toBe(413);
    expect(streamed.body).toMatch(/over the 65536-byte limit/);
    expect(inboxFiles()).toEqual(before);
    expect(stagingFiles()).toEqual([]);
    expect(await p.query('SELECT id FROM sluice.documents')).toHaveLength(docsBefore.length);
  });

  it('stores traversal and control-character names safely, keeping the original in metadata', async () => {
    const dir = join(scratch.dir, 'sluice-inbox', 'default');
    const check = async (res: { status: number; body: Record<string, unknown> }, name: string) => {
      expect(res.status, `${JSON.stringify(name)}: ${JSON.stringify(res.body)}`).toBe(202);
      const uri = res.body.uri as string;
      expect(uri.startsWith(`${dir}/`)).toBe(true);
      const stored = uri.slice(dir.length + 1);
      expect(stored).not.toMatch(/[\u0000-\u001f\u007f\u202e/\\]|^\.|\.\./);
      const s = await statusOf(res.body.id);
      expect((s.metadata.upload as { originalName: string }).originalName).toBe(name.replace('\u0000', ''));
    };
    for (const name of ['../../etc/passwd', '..\\..\\boot.ini', '..', '.hidden', 'right\u202eto-left.txt']) {
      await check(await upload(form(name, `${TEXT}\n${JSON.stringify(name)}`)), name);
    }
    // Control characters cannot travel in a multipart header; a raw upload names the file in the query.
    const name = 'evil\u0007na\u0000me\n.txt';
    const raw = await fetch(`${base}/v1/documents?filename=${encodeURIComponent(name)}`, {
      method: 'POST',
      body: TEXT,
      headers: { ...auth, 'content-type': 'text/plain' },
    });
    await check({ status: raw.status, body: (await raw.json()) as Record<string, unknown> }, name);
    expect(readdirSync(dir).some((n) => n.endsWith('-passwd'))).toBe(true);
    // A multipart header with a NUL byte is malformed: refused with a reason, the server carries on.
    const bad = await upload(form('nul\u0000name.txt', TEXT));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/malformed multipart/);
  });

  it('answers 401 to a missing or wrong token, on upload and status', async () => {
    expect((await upload(form('a.txt', 'a'), {})).status).toBe(401);
    expect((await upload(form('a.txt', 'a'), { authorization: 'Bearer wrong-token-000' })).status).toBe(401);
    expect((await upload(form('a.txt', 'a'), { authorization: TOKEN })).status).toBe(401);
    expect((await fetch(`${base}/v1/documents/1`)).status).toBe(401);
  });

  it('`sluice serve` refuses a non-loopback address without a token (exit 2)', async () => {
    const res = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { env: p.env });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('SLUICE_DASHBOARD_TOKEN');
  });
});
