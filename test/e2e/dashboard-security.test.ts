// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Who may use the dashboard and how: 401 everywhere without the token, bearer for
// scripts, a login form that sets an HttpOnly SameSite=Strict cookie (never a token
// in a URL), CSRF refusal for cookie requests, no secret on any page, and the CLI's
// refusal to listen beyond loopback without a token.
import { spawn } from 'node:child_process';
import { Hono } from 'hono';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createDashboardApp, type RunningDashboard, startDashboard } from '../../src/dashboard/server.ts';
import { createLogger } from '../../src/log.ts';
import { createRuntime, type Runtime } from '../../src/queue/runtime.ts';
import { launchBrowser, type WatchedPage, watchedPage } from '../helpers/browser.ts';
import { runCli, SLUICE_BIN } from '../helpers/cli.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const TOKEN = 'dashboard-test-token-5f2c9a41e7';
const DB_PASSWORD = 'pw-never-shown-93b1';

let p: TestPipeline;
let rt: Runtime;
let board: RunningDashboard;
let browser: Browser;

beforeAll(async () => {
  p = await startPipeline({ label: 'dashsec', stages: [] });
  // Trust auth ignores the password, so the dashboard connects while holding a secret it must never show.
  const url = new URL(p.db.url);
  url.password = DB_PASSWORD;
  const config = loadConfig({ env: { ...p.env, DATABASE_URL: url.toString() }, cwd: '/' });
  rt = await createRuntime(config, { log: createLogger('error'), kind: 'worker' });
  board = await startDashboard({ rt, token: TOKEN }, { host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await board?.close();
  await rt?.close();
  await p?.close();
});

const at = (path: string) => new URL(path, board.url).toString();

describe('without the token', () => {
  const GETS = [
    '/',
    '/documents/1',
    '/partials/overview',
    '/search?q=x',
    '/queues',
    '/queues/api/queues',
    '/metrics',
  ];

  it.each(GETS)('GET %s answers 401', async (path) => {
    const res = await fetch(at(path));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it.each([
    ['POST', '/actions/retry'],
    ['POST', '/actions/retry-code'],
    ['POST', '/logout'],
    ['PUT', '/queues/api/queues/extract/pause'],
  ])('%s %s answers 401', async (method, path) => {
    expect((await fetch(at(path), { method, body: new URLSearchParams({ id: '1' }) })).status).toBe(401);
  });

  it('a browser asking for a page gets the login form with 401; a wrong bearer token gets 401', async () => {
    const page = await fetch(at('/'), { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('name="token"');
    const wrong = await fetch(at('/'), { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
  });

  it('the probes stay open for load balancers', async () => {
    expect((await fetch(at('/healthz'))).status).toBe(200);
    const ready = await fetch(at('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, postgres: 'ok', queue: 'ok', migrations: 'current' });
  });
});

describe('with the token', () => {
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('scripts use Authorization: Bearer, and their POSTs need no CSRF token', async () => {
    expect((await fetch(at('/'), { headers: bearer })).status).toBe(200);
    expect((await fetch(at('/metrics'), { headers: bearer })).status).toBe(200);
    const res = await fetch(at('/actions/retry'), {
      method: 'POST',
      headers: { ...bearer, accept: 'application/json' },
      body: new URLSearchParams({ id: '999999' }),
    });
    expect(res.status).toBe(404); // past auth and CSRF: the document does not exist
  });

  let w: WatchedPage;
  const urls: string[] = [];

  it('the login form sets an HttpOnly, SameSite=Strict cookie; the token never appears in a URL', async () => {
    w = await watchedPage(browser, board.url);
    w.context.on('request', (r) => urls.push(r.url()));
    const first = await w.page.goto('/');
    expect(first?.status()).toBe(401);
    await w.page.getByLabel('Token').fill(TOKEN);
    await w.page.getByRole('button', { name: 'Sign in' }).click();
    await w.page.getByRole('heading', { name: 'Pipeline overview' }).waitFor();
    const session = (await w.context.cookies()).find((c) => c.name === 'sluice_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(session?.value).not.toContain(TOKEN);
    expect(urls.length).toBeGreaterThan(2);
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(w.errors.filter((e) => !e.includes('401'))).toEqual([]);
  });

  it('a cookie-authenticated POST without the CSRF token, or from another site, is refused', async () => {
    const cookies = await w.context.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const xsrf = cookies.find((c) => c.name === 'XSRF-TOKEN')?.value ?? '';
    const post = (headers: Record<string, string>, body: Record<string, string>) =>
      fetch(at('/actions/retry'), {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, ...headers },
        body: new URLSearchParams({ id: '999999', ...body }),
      });
    expect((await post({}, {})).status).toBe(403);
    expect((await post({}, { _csrf: `${xsrf}x` })).status).toBe(403);
    expect((await post({ origin: 'http://evil.example' }, { _csrf: xsrf })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' }, { _csrf: xsrf })).status).toBe(403);
    expect((await post({}, { _csrf: xsrf })).status).toBe(404); // accepted: no such document
    // Bull Board's client sends the token in X-XSRF-TOKEN.
    const pause = (headers: Record<string, string>) =>
      fetch(at('/queues/api/queues/extract/pause'), { method: 'PUT', headers: { cookie, ...headers } });
    expect((await pause({})).status).toBe(403);
    expect((await pause({ 'x-xsrf-token': xsrf })).status).toBeLessThan(300);
    expect(await p.rt.queues.extract.isPaused()).toBe(true);
    await p.rt.queues.extract.resume();
  });

  it('no page, API answer or metric shows the token, a password or a connection string', async () => {
    for (const path of [
      '/',
      '/metrics',
      '/readyz',
      '/queues',
      '/queues/api/queues',
      '/queues/api/redis/stats',
    ]) {
      const text = await (await fetch(at(path), { headers: bearer })).text();
      expect(text, path).not.toContain(TOKEN);
      expect(text, path).not.toContain(DB_PASSWORD);
      expect(text, path).not.toContain(p.db.name);
      expect(text, path).not.toMatch(/postgres(ql)?:\/\/|redis:\/\//);
    }
  });
});

describe('guessing the token', () => {
  it('the login form answers 429 after 20 wrong tokens in a minute, even to the right one', async () => {
    const first = await fetch(at('/login'));
    const cookie = first.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const xsrf = /XSRF-TOKEN=([^;]+)/.exec(cookie)?.[1] ?? '';
    const login = (token: string) =>
      fetch(at('/login'), {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie },
        body: new URLSearchParams({ _csrf: xsrf, token }),
      });
    for (let i = 0; i < 20; i++) expect((await login(`wrong-${i}`)).status).toBe(401);
    expect((await login(TOKEN)).status).toBe(429);
  });
});

describe('open mode (loopback, no token)', () => {
  it('answers only requests that name a loopback host (DNS-rebinding defence)', async () => {
    const { app, close } = await createDashboardApp({ rt: p.rt });
    try {
      expect((await app.request('http://127.0.0.1:3000/healthz')).status).toBe(200);
      expect((await app.request('http://localhost:3000/')).status).toBe(200);
      expect((await app.request('http://rebind.evil.example:3000/')).status).toBe(403);
      // A search spends embedding calls: another site cannot trigger one through the browser.
      const search = await app.request('http://127.0.0.1:3000/search?q=x', {
        headers: { 'sec-fetch-site': 'cross-site' },
      });
      expect(search.status).toBe(403);
    } finally {
      close();
    }
  });
});

describe('extra routes (e.g. an upload API) sit behind the same checks', () => {
  it('401 without the token, bearer accepted, cookie requests need the CSRF header (multipart is never buffered for it)', async () => {
    const api = new Hono();
    api.post('/documents', async (c) => c.json({ got: Object.keys(await c.req.parseBody()) }, 201));
    const { app, close } = await createDashboardApp(
      { rt: p.rt, token: TOKEN },
      { extraRoutes: [{ path: '/v1', app: api }] },
    );
    try {
      const upload = () => {
        const form = new FormData();
        form.set('file', new Blob(['hello']), 'a.txt');
        return form;
      };
      const url = 'http://127.0.0.1:3000/v1/documents';
      expect((await app.request(url, { method: 'POST', body: upload() })).status).toBe(401);
      const ok = await app.request(url, {
        method: 'POST',
        body: upload(),
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(ok.status).toBe(201);
      expect(await ok.json()).toEqual({ got: ['file'] });
    } finally {
      close();
    }
    const open = await createDashboardApp(
      { rt: p.rt },
      { extraRoutes: [{ path: '/v1', app: new Hono().post('/x', (c) => c.text('ok')) }] },
    );
    try {
      const page = await open.app.request('http://127.0.0.1:3000/healthz');
      const cookie = page.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const xsrf = /XSRF-TOKEN=([^;]+)/.exec(cookie)?.[1] ?? '';
      const post = (headers: Record<string, string>, body: FormData) =>
        open.app.request('http://127.0.0.1:3000/v1/x', {
          method: 'POST',
          headers: { cookie, ...headers },
          body,
        });
      const form = new FormData();
      form.set('_csrf', xsrf); // a field in a multipart body is not read: the header is needed
      expect((await post({}, form)).status).toBe(403);
      expect((await post({ 'x-xsrf-token': xsrf }, new FormData())).status).toBe(200);
    } finally {
      open.close();
    }
  });
});

describe('sluice dashboard', () => {
  it('refuses a non-loopback bind without a token: exit 2, one line naming SLUICE_DASHBOARD_TOKEN', async () => {
    const res = await runCli(['dashboard', '--host', '0.0.0.0', '--port', '0'], { env: p.env });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('SLUICE_DASHBOARD_TOKEN');
    expect(res.stderr).toContain('--host 127.0.0.1');
  });

  it('rejects a bad port and has --help', async () => {
    expect((await runCli(['dashboard', '--port', '70000'], { env: p.env })).code).toBe(2);
    const help = await runCli(['dashboard', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: sluice dashboard');
  });

  it('with a token it listens on every interface, prints its URL as JSON, and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [SLUICE_BIN, 'dashboard', '--host', '0.0.0.0', '--port', '0', '--json'],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...p.env, SLUICE_DASHBOARD_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.trim().endsWith('}')) resolve((JSON.parse(out) as { url: string }).url);
      });
      void exited.then((code) => reject(new Error(`dashboard exited (${code}): ${err}`)));
    });
    const port = new URL(url).port;
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(401);
    expect(
      (await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).not.toContain(TOKEN);
  });
});
