// The overview and /metrics when the embedder's configuration is wrong: the
// documents held in the embed stage are shown with the reason (never the key),
// provider traffic is counted, and the deferrals show up as stage outcomes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDashboardApp, type DashboardApp } from '../../src/dashboard/server.ts';
import { until } from '../helpers/browser.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { type EmbedServer, startEmbedServer } from '../helpers/embed-server.ts';
import { sample } from '../helpers/metrics.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const WRONG_KEY = 'wrong-key-dash-77';
let server: EmbedServer;
let p: TestPipeline;
let dash: DashboardApp;
let scratch: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  server = await startEmbedServer({ apiKey: 'right-key-dash-11' });
  p = await startPipeline({
    label: 'dash-config',
    env: {
      SLUICE_EMBEDDER: 'openai',
      OPENAI_BASE_URL: server.openaiBaseUrl,
      OPENAI_API_KEY: WRONG_KEY,
      SLUICE_EMBED_MODEL: 'text-embedding-3-small',
      SLUICE_EMBED_DIMENSIONS: '64',
    },
  });
  dash = await createDashboardApp({ rt: p.rt });
  scratch = scratchDir('dash-config');
});

afterAll(async () => {
  dash?.close();
  await p?.close();
  await server?.close();
  scratch?.cleanup();
});

it('shows documents waiting on the embedder configuration with the reason, and counts the deferrals', async () => {
  writeFileSync(join(scratch.dir, 'note.md'), '# Note\n\nSome words to embed.\n');
  await p.ingest([scratch.dir]);
  await until('the document waiting on configuration', async () => {
    const rows = await p.query<{ n: string }>(
      "SELECT count(*) AS n FROM sluice.documents WHERE status = 'processing' AND error_code = 'CONFIG_ERROR'",
    );
    return Number(rows[0]?.n) === 1;
  });
  const res = await dash.app.request('http://127.0.0.1/', { headers: { accept: 'text/html' } });
  expect(res.status).toBe(200);
  const page = await res.text();
  expect(page).toMatch(
    /data-testid="config-wait">1 document\(s\) in <b>default<\/b> wait on the embedder's configuration: waiting: .*API key was rejected/,
  );
  expect(page).toContain('data-testid="count-default-processing">1<');
  expect(page).not.toContain(WRONG_KEY);

  const metrics = await (await dash.app.request('http://127.0.0.1/metrics')).text();
  expect(
    sample(metrics, 'sluice_stage_jobs_total', { stage: 'embed', outcome: 'deferred' }),
  ).toBeGreaterThanOrEqual(1);
  expect(sample(metrics, 'sluice_embed_requests_total')).toBeGreaterThanOrEqual(1);
  expect(sample(metrics, 'sluice_documents', { collection: 'default', status: 'processing' })).toBe(1);
  expect(metrics).not.toContain(WRONG_KEY);
});
