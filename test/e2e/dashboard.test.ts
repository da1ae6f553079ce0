// The dashboard in a real headless Chromium, against a pipeline run in progress
// on the real services: stalls are named, counts match the database, failures show
// their code and message, Retry brings a fixed document to done, the document page
// shows runs and paged chunks, Bull Board lists the stage queues, hostile names stay
// text, /metrics parses and moves, and nothing errors or leaves the machine.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboard, startDashboard } from '../../src/dashboard/server.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/supervisor.ts';
import { ARTIFACTS, launchBrowser, until, type WatchedPage, watchedPage } from '../helpers/browser.ts';
import { FIXTURES, scratchDir } from '../helpers/corpus.ts';
import { promtoolCheck, sample } from '../helpers/metrics.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const XSS_NAME = '<img src=x onerror=alert(1)>.md';
const VANISH = { a: 'vanish-a.md', b: 'vanish-b.md' };
const GOOD = 4; // wiki.md, multi_page.pdf, dedication.txt and the hostile name

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let board: RunningDashboard;
let browser: Browser;
let w: WatchedPage;
const workerSets: WorkerSet[] = [];

beforeAll(async () => {
  p = await startPipeline({ label: 'dash', stages: [] });
  scratch = scratchDir('dash');
  copyFileSync(join(FIXTURES, 'md/docling-wiki.md'), join(scratch.dir, 'wiki.md'));
  copyFileSync(join(FIXTURES, 'pdf/docling-multi_page.pdf'), join(scratch.dir, 'multi_page.pdf'));
  copyFileSync(join(FIXTURES, 'txt/deb-dedication-9.0.txt'), join(scratch.dir, 'dedication.txt'));
  writeFileSync(
    join(scratch.dir, XSS_NAME),
    '# <script>alert(2)</script> Hostile heading\n\nBody with <b>tags</b>, "quotes" & an onerror=alert(3) attribute.\n',
  );
  for (const name of Object.values(VANISH)) writeFileSync(join(scratch.dir, name), vanishText(name));
  board = await startDashboard({ rt: p.rt }, { host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
  w = await watchedPage(browser, board.url);
});

afterAll(async () => {
  await browser?.close();
  for (const set of workerSets) await set.close();
  await board?.close();
  await p?.close();
  scratch?.cleanup();
});

function vanishText(name: string): string {
  return `# ${name}\n\nThis file disappears before extraction and comes back later.\n`;
}

async function docId(name: string): Promise<number> {
  const [r] = await p.query<{ id: string }>('SELECT id FROM sluice.documents WHERE uri = $1', [
    join(scratch.dir, name),
  ]);
  return Number(r?.id);
}

async function statusCounts(): Promise<Record<string, number>> {
  const rows = await p.query<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM sluice.documents GROUP BY 1',
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

async function scrape(): Promise<string> {
  const res = await fetch(`${board.url}metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

describe('dashboard in a browser', () => {
  it('with no workers, the overview names the stage nobody consumes and the age of its oldest job', async () => {
    await p.ingest([scratch.dir]);
    for (const name of Object.values(VANISH)) rmSync(join(scratch.dir, name)); // gone before extraction
    await w.page.goto('/');
    const alert = w.page.getByTestId('no-worker-extract');
    await expect(alert.textContent()).resolves.toMatch(
      /No worker is consuming stage extract: 6 job\(s\) waiting, the oldest for \d/,
    );
    expect(await w.page.getByTestId('stage-extract').locator('[data-col=waiting]').textContent()).toBe('6');
    expect(await w.page.getByTestId('count-default-queued').textContent()).toBe('6');
  });

  it('live, without reloading: a run in progress shows failures with code and message, and counts match the database', async () => {
    workerSets.push(await startWorkers(p.rt, ['extract', 'chunk', 'embed'], { concurrency: 2 }));
    // The load stage has no worker: documents pile up in its queue, a stable "in progress" state.
    await until('documents waiting at load and two failures', async () => {
      const depth = await p.rt.queues.load.getWaitingCount();
      return depth === GOOD && (await statusCounts()).failed === 2;
    });
    // The page loaded before any of this happened: only live updates can show it.
    await w.page.getByTestId('count-default-failed').filter({ hasText: /^2$/ }).waitFor({ timeout: 15_000 });
    await w.page
      .getByTestId('no-worker-load')
      .filter({ hasText: `${GOOD} job(s) waiting` })
      .waitFor();
    expect(await w.page.getByTestId('no-worker-extract').count()).toBe(0);

    const db = await statusCounts();
    for (const status of ['queued', 'processing', 'done', 'stale', 'skipped', 'failed', 'deleted']) {
      expect(await w.page.getByTestId(`count-default-${status}`).textContent(), status).toBe(
        String(db[status] ?? 0),
      );
    }
    expect(await w.page.getByTestId('count-default-total').textContent()).toBe('6');
    for (const name of Object.values(VANISH)) {
      const row = w.page.getByTestId(`failure-${await docId(name)}`);
      await expect(row.textContent()).resolves.toContain('SOURCE_MISSING');
      await expect(row.textContent()).resolves.toContain(`${join(scratch.dir, name)} no longer exists`);
      await expect(row.locator('td').nth(2).textContent()).resolves.toBe('extract');
    }
    expect(await w.page.getByTestId('code-default-SOURCE_MISSING').textContent()).toContain('Retry all 2');
    const extractRow = w.page.getByTestId('stage-extract');
    expect(Number(await extractRow.locator('[data-col=m1]').textContent())).toBeGreaterThanOrEqual(GOOD);
    await w.page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
  });

  it('/metrics parses as Prometheus text and its counters move during the run', async () => {
    const before = await scrape();
    const lint = promtoolCheck(before);
    expect(lint.output).toBe('');
    expect(lint.status).toBe(0);
    expect(sample(before, 'sluice_stage_jobs_total', { stage: 'extract', outcome: 'done' })).toBe(GOOD);
    expect(sample(before, 'sluice_stage_jobs_total', { stage: 'extract', outcome: 'failed' })).toBe(2);
    expect(sample(before, 'sluice_stage_jobs_total', { stage: 'load', outcome: 'done' }) ?? 0).toBe(0);
    expect(sample(before, 'sluice_documents', { collection: 'default', status: 'failed' })).toBe(2);
    expect(sample(before, 'sluice_queue_jobs', { stage: 'load', state: 'waiting' })).toBe(GOOD);
    expect(sample(before, 'sluice_queue_workers', { stage: 'load' })).toBe(0);
    expect(sample(before, 'sluice_queue_oldest_waiting_job_age_seconds', { stage: 'load' })).toBeGreaterThan(
      0,
    );
    expect(sample(before, 'sluice_embed_requests_total')).toBeGreaterThan(0);

    workerSets.push(await startWorkers(p.rt, ['load'], { concurrency: 2 }));
    await until('every good document done', async () => (await statusCounts()).done === GOOD);
    const after = await scrape();
    expect(promtoolCheck(after).status).toBe(0);
    expect(sample(after, 'sluice_stage_jobs_total', { stage: 'load', outcome: 'done' })).toBe(GOOD);
    expect(sample(after, 'sluice_stage_duration_seconds_count', { stage: 'load' })).toBe(GOOD);
    expect(sample(after, 'sluice_freshness_seconds_count')).toBe(GOOD);
    expect(sample(after, 'sluice_documents', { collection: 'default', status: 'done' })).toBe(GOOD);
    expect(sample(after, 'sluice_queue_workers', { stage: 'load' })).toBe(1);
  });

  it('follows the run to done without a reload, with freshness', async () => {
    await w.page
      .getByTestId('count-default-done')
      .filter({ hasText: new RegExp(`^${GOOD}$`) })
      .waitFor();
    await w.page.getByText('Every stage has a worker.').waitFor();
    expect(await w.page.getByTestId('freshness-p50').textContent()).toMatch(/\d/);
  });

  it('Retry re-enqueues a failed document and, once its cause is fixed, it ends done', async () => {
    const a = await docId(VANISH.a);
    writeFileSync(join(scratch.dir, VANISH.a), vanishText(VANISH.a)); // the cause, fixed
    await w.page.getByTestId(`failure-${a}`).getByRole('button', { name: 'Retry' }).click();
    await w.page.waitForURL(`${board.url}`);
    await until('the retried document done', async () => {
      const [r] = await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE id = $1', [a]);
      return r?.status === 'done';
    });
    await w.page.getByTestId(`failure-${a}`).waitFor({ state: 'detached' });

    // Retry all of a code (asks first: the browser accepts the confirm).
    const b = await docId(VANISH.b);
    writeFileSync(join(scratch.dir, VANISH.b), vanishText(VANISH.b));
    await w.page.getByTestId('code-default-SOURCE_MISSING').getByRole('button').click();
    await until('the second document done', async () => (await statusCounts()).done === GOOD + 2);
    await w.page.getByTestId(`failure-${b}`).waitFor({ state: 'detached' });
    expect(w.dialogs).toContain('confirm: Retry all 1 SOURCE_MISSING failure(s) in default?');
    await w.page.getByText('No failed documents.').waitFor();
  });

  it('the document page shows stage runs with outcomes and chunks with their pages', async () => {
    const id = await docId('multi_page.pdf');
    await w.page.goto(`/documents/${id}`);
    expect(await w.page.getByTestId('doc-status').textContent()).toBe('done');
    const runs = w.page.getByTestId('stage-runs');
    for (const stage of ['extract', 'chunk', 'embed', 'load']) {
      await expect(runs.locator(`tr[data-stage=${stage}]`).first().textContent()).resolves.toMatch(/done/);
    }
    const pages = await w.page.getByTestId('chunk-page').allTextContents();
    expect(pages).toContain('p. 1');
    expect(pages.some((t) => /p\. [2-9]/.test(t))).toBe(true);
    await w.page.screenshot({ path: join(ARTIFACTS, 'dashboard-document.png'), fullPage: true });

    // The retried document: its failed run and the runs that followed, with attempts.
    await w.page.goto(`/documents/${await docId(VANISH.a)}`);
    const outcomes = await w.page
      .locator('[data-testid=stage-runs] tr[data-stage=extract] .status')
      .allTextContents();
    expect(outcomes).toEqual(['failed', 'done']);
  });

  it('a file named like markup renders as text, and no dialog opens', async () => {
    const id = await docId(XSS_NAME);
    await w.page.goto(`/documents/${id}`);
    expect(await w.page.locator('h1.name').textContent()).toBe(XSS_NAME);
    expect(await w.page.getByTestId('doc-uri').textContent()).toBe(join(scratch.dir, XSS_NAME));
    expect(await w.page.getByTestId('chunks').textContent()).toContain('onerror=alert(3)');
    expect(await w.page.locator('img').count()).toBe(0);
    expect(await w.page.locator('main script').count()).toBe(0);

    await w.page.goto(`/search?q=${encodeURIComponent('hostile heading with tags and quotes')}`);
    const results = w.page.getByTestId('search-results');
    await expect(results.textContent()).resolves.toContain(XSS_NAME);
    expect(await w.page.locator('img').count()).toBe(0);
    expect(w.dialogs.filter((d) => !d.startsWith('confirm:'))).toEqual([]);
  });

  it('Bull Board lists the four stage queues, its Retry refused', async () => {
    await w.page.goto('/queues');
    for (const stage of ['extract', 'chunk', 'embed', 'load']) {
      await w.page
        .getByRole('link', { name: new RegExp(`^${stage}`) })
        .first()
        .waitFor({ timeout: 30_000 });
    }
    // With the browser's cookies and CSRF token (as Bull Board's client sends them), the retry is refused.
    const cookies = await w.context.cookies();
    const xsrf = cookies.find((c) => c.name === 'XSRF-TOKEN')?.value ?? '';
    // Its API names a queue by the BullMQ name: `<prefix>.extract` on the Postgres queue.
    const extract = encodeURIComponent(p.rt.queues.extract.name);
    const put = await fetch(`${board.url}queues/api/queues/${extract}/retry/failed`, {
      method: 'PUT',
      headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '), 'x-xsrf-token': xsrf },
    });
    expect(put.status).toBe(403);
    expect(await put.text()).toContain('retry documents from the overview');
  });

  it('is usable at phone width: nothing wider than the screen', async () => {
    const phone = await watchedPage(browser, board.url, { viewport: { width: 390, height: 844 } });
    await phone.page.goto('/');
    const widths = await phone.page.evaluate<{ doc: number; view: number }>(
      '({ doc: document.documentElement.scrollWidth, view: window.innerWidth })',
    );
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    await phone.page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview-phone.png'), fullPage: true });
    await phone.page.goto(`/documents/${await docId('wiki.md')}`);
    expect(await phone.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      390,
    );
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  it('no page logged a console error or fetched anything from another host', () => {
    expect(w.errors).toEqual([]);
    expect(w.external).toEqual([]);
  });
});
