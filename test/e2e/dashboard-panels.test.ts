// The overview's two conditional panels in a real headless Chromium, signed in
// with the token: deletions the mass-delete guard holds (two watched folders
// synced, then emptied), with Approve (documents deleted) and Discard (documents
// kept, nothing held) clicked in the page; the same counts in /metrics; a cookie
// POST without the CSRF token refused; and a re-index build, with no workers to
// run it, shown as building with its progress, then stopped by its run budget.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboard, startDashboard } from '../../src/dashboard/server.ts';
import { sourceSummaries } from '../../src/loaders/sources.ts';
import { STAGES } from '../../src/queue/jobs.ts';
import { startReindex, waitForBuild } from '../../src/queue/reindex.ts';
import { startWorkers } from '../../src/queue/supervisor.ts';
import { parseSpec, startWatching, type WatchHandle } from '../../src/sources/watch.ts';
import { launchBrowser, until, type WatchedPage, watchedPage } from '../helpers/browser.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { promtoolCheck, sample } from '../helpers/metrics.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const TOKEN = 'dashboard-panels-token-8d1e3b';
const FILES = 12;
const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let board: RunningDashboard;
let browser: Browser;
let w: WatchedPage;
let watching: WatchHandle;
let keepDir: string;
let dropDir: string;

function folderWith(name: string): string {
  const dir = join(scratch.dir, name);
  mkdirSync(dir);
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `doc-${i}.txt`), `${name} ${i}\n${TEXT}`);
  return dir;
}

const summaryOf = async (dir: string) => (await sourceSummaries(p.rt.pool)).find((s) => s.uri === dir)!;
const statuses = async (dir: string) =>
  (
    await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri LIKE $1', [`${dir}/%`])
  ).map((r) => r.status);

beforeAll(async () => {
  p = await startPipeline({ label: 'dash-panels', stages: [], env: { SLUICE_WATCH_STABLE_MS: '200' } });
  scratch = scratchDir('dash-panels');
  keepDir = folderWith('keep');
  // A source URI is user data: this one would run script if it reached the page unescaped.
  dropDir = folderWith('drop-<img src=x onerror=alert(1)>');
  watching = await startWatching(p.rt, [parseSpec(keepDir, '/'), parseSpec(dropDir, '/')], {
    collection: 'default',
  });
  await watching.allActive();
  for (const wt of watching.active.values()) await wt.idle();
  // Index everything once, then stop the workers: the re-index below stays `building`.
  const workers = await startWorkers(p.rt, [...STAGES], { concurrency: 2 });
  await until('every document indexed', async () => {
    const [r] = await p.query<{ n: string }>(
      "SELECT count(*) AS n FROM sluice.documents WHERE status = 'done'",
    );
    return Number(r?.n) === 2 * FILES;
  });
  await workers.close();
  board = await startDashboard({ rt: p.rt, token: TOKEN }, { host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
  w = await watchedPage(browser, board.url);
  await w.page.goto('/');
  await w.page.getByLabel('Token').fill(TOKEN);
  await w.page.getByRole('button', { name: 'Sign in' }).click();
  await w.page.getByRole('heading', { name: 'Pipeline overview' }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await watching?.close();
  await board?.close();
  await p?.close();
  scratch?.cleanup();
});

describe('dashboard overview panels', () => {
  let generation: number;

  it('a re-index build with no workers shows as building, with its documents and chunks done of total', async () => {
    expect(await w.page.getByTestId('builds').count()).toBe(0);
    const started = await startReindex(p.rt, {
      collection: 'default',
      target: { ...p.config, chunkSize: 400, chunkOverlap: 50 },
      budgetTokens: 1,
    });
    generation = started.generation;
    expect(started.documents).toBe(2 * FILES);
    await w.page.goto('/');
    const row = w.page.getByTestId(`build-default-${generation}`);
    expect(await row.locator('[data-col=generation]').textContent()).toBe(`#${generation}`);
    expect(await row.locator('[data-col=state]').textContent()).toBe('building');
    expect(await row.locator('[data-col=documents]').textContent()).toBe(`0 / ${2 * FILES}`);
    expect(await row.locator('[data-col=chunks]').textContent()).toBe('0');
    expect(await row.locator('[data-col=tokens]').textContent()).toBe('0 of 1 budget');
    expect(await row.locator('[data-col=waiting]').textContent()).toBe('');
  });

  it('a build stopped by its run budget says why it waits', async () => {
    const workers = await startWorkers(p.rt, [...STAGES], { concurrency: 2 });
    const progress = await waitForBuild(p.rt, 'default', generation, { timeoutMs: 60_000 });
    await workers.close();
    expect(progress.paused).toMatch(/run budget/);
    const waiting = w.page.getByTestId(`build-default-${generation}`).locator('[data-col=waiting]');
    // The live region refreshes by itself: no reload.
    const why = `${progress.summary.documents.waiting} document(s) ${progress.summary.waitingReason}`;
    expect(why).toMatch(new RegExp(`^${2 * FILES} document\\(s\\) waiting: the run budget of generation`));
    await waiting.filter({ hasText: why }).waitFor({ timeout: 15_000 });
    expect(
      await w.page.getByTestId(`build-default-${generation}`).locator('[data-col=state]').textContent(),
    ).toBe('building');
  });

  it('deletions the guard holds are listed per source with why, escaped, and counted in /metrics', async () => {
    for (const dir of [keepDir, dropDir])
      for (let i = 0; i < FILES; i++) unlinkSync(join(dir, `doc-${i}.txt`));
    await until('both sources held', async () => {
      const [keep, drop] = [await summaryOf(keepDir), await summaryOf(dropDir)];
      return keep.heldDeletes === FILES && drop.heldDeletes === FILES;
    });
    await w.page.goto('/');
    for (const dir of [keepDir, dropDir]) {
      const row = w.page.getByTestId(`held-${(await summaryOf(dir)).id}`);
      expect(await row.locator('td').first().textContent()).toBe(dir);
      expect(await row.locator('[data-col=held]').textContent()).toBe(String(FILES));
      expect(await row.locator('[data-col=why]').textContent()).toBe(
        `${FILES} of ${FILES} objects gone in one scan, over the 20% guard`,
      );
    }
    expect(await w.page.locator('img').count()).toBe(0);
    expect(w.dialogs).toEqual([]);

    const res = await fetch(`${board.url}metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await res.text();
    expect(promtoolCheck(text)).toEqual({ status: 0, output: '' });
    for (const dir of [keepDir, dropDir])
      expect(sample(text, 'sluice_deletions_held', { source: dir, collection: 'default' })).toBe(FILES);
  });

  it('a cookie POST to approve without the CSRF token is refused, a bad source id too, and nothing changes', async () => {
    const cookie = (await w.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(`${board.url}actions/approve-deletes`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie },
      body: new URLSearchParams({ source: String((await summaryOf(dropDir)).id) }),
    });
    expect(res.status).toBe(403);
    // Past auth and CSRF (a script's bearer token), a form naming no real source is refused.
    const bearerPost = (source: string) =>
      fetch(`${board.url}actions/discard-deletes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: new URLSearchParams({ source }),
      });
    expect((await bearerPost('1 OR 1=1')).status).toBe(400);
    expect((await bearerPost('999999')).status).toBe(404);
    expect((await summaryOf(dropDir)).heldDeletes).toBe(FILES);
    expect(await statuses(dropDir)).not.toContain('deleted');
  });

  it('Discard keeps the documents and holds nothing more; Approve deletes them', async () => {
    const keep = await summaryOf(keepDir);
    await w.page.getByTestId(`held-${keep.id}`).getByRole('button', { name: 'Discard' }).click();
    await w.page.getByTestId(`held-${keep.id}`).waitFor({ state: 'detached' });
    expect(await summaryOf(keepDir)).toMatchObject({ heldDeletes: 0 });
    expect(await statuses(keepDir)).toHaveLength(FILES);
    expect(await statuses(keepDir)).not.toContain('deleted');

    const drop = await summaryOf(dropDir);
    await w.page.getByTestId(`held-${drop.id}`).getByRole('button', { name: 'Approve' }).click();
    await w.page.getByTestId('held-deletions').waitFor({ state: 'detached' });
    expect(await summaryOf(dropDir)).toMatchObject({ heldDeletes: 0 });
    expect(await statuses(dropDir)).toEqual(Array(FILES).fill('deleted'));
    // Each click asked first; nothing else opened a dialog (no script ran from a name).
    expect(w.dialogs).toHaveLength(2);
    expect(w.dialogs.every((d) => d.startsWith('confirm: '))).toBe(true);
    expect(w.errors.filter((e) => !e.includes('401'))).toEqual([]); // the sign-in page answers 401
    expect(w.external).toEqual([]);
  });
});
