// The upload API also rides on the dashboard (`sluice dashboard`, `run --dashboard`):
// behind the dashboard's token, an upload is stored in the inbox, queued, and its
// status readable; without the token nothing is stored.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardFor } from '../../src/cli/dashboard.ts';
import { createLogger } from '../../src/log.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const TOKEN = 'dashboard-upload-token-7c1e';
const auth = { authorization: `Bearer ${TOKEN}` };

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let board: { url: string; close(): Promise<void> };

beforeAll(async () => {
  scratch = scratchDir('dash-upload');
  p = await startPipeline({
    label: 'dash-upload',
    env: { SLUICE_DASHBOARD_TOKEN: TOKEN, SLUICE_INBOX: join(scratch.dir, 'inbox') },
  });
  board = await startDashboardFor(p.rt, createLogger('error'), { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await board?.close();
  await p?.close();
  scratch?.cleanup();
});

function form(name: string, body: string): FormData {
  const f = new FormData();
  f.append('file', new Blob([body]), name);
  return f;
}

const inbox = () => {
  const dir = join(scratch.dir, 'inbox', 'default');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('upload through the dashboard server', () => {
  it('refuses an upload without the token and stores nothing', async () => {
    const res = await fetch(new URL('/v1/documents', board.url), {
      method: 'POST',
      body: form('nope.txt', 'should never be stored'),
    });
    expect(res.status).toBe(401);
    expect(inbox()).toEqual([]);
  });

  it('stores, queues and indexes an upload sent with the bearer token', async () => {
    const res = await fetch(new URL('/v1/documents', board.url), {
      method: 'POST',
      headers: auth,
      body: form('harbour-notes.txt', 'The lighthouse keeper logs every ship entering the harbour at dawn.'),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: number };
    // Stored under a unique prefix, with the sanitised name.
    expect(inbox()).toEqual([expect.stringMatching(/^[0-9a-f]+-harbour-notes\.txt$/)]);
    const done = await until('the uploaded document to be done', async () => {
      const r = await fetch(new URL(`/v1/documents/${id}`, board.url), { headers: auth });
      const body = (await r.json()) as { status: string };
      return body.status === 'done' ? body : undefined;
    });
    expect(done.status).toBe('done');
  });
});
