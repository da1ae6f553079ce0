// Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core:
// never a downloaded browser. Every page records console errors, uncaught page
// errors, dialogs (an XSS would open one) and requests that leave this machine.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SLUICE_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
  /** Dialogs that opened, as "type: message". Confirms are accepted, anything else dismissed. */
  dialogs: string[];
  /** Requests to anything but the server under test. */
  external: string[];
}

export async function watchedPage(
  browser: Browser,
  baseUrl: string,
  opts: { viewport?: { width: number; height: number }; extraHTTPHeaders?: Record<string, string> } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: opts.viewport ?? { width: 1280, height: 900 },
    ...(opts.extraHTTPHeaders ? { extraHTTPHeaders: opts.extraHTTPHeaders } : {}),
  });
  const w: WatchedPage = {
    page: undefined as unknown as Page,
    context,
    errors: [],
    dialogs: [],
    external: [],
  };
  const origin = new URL(baseUrl).origin;
  // Context-wide, so every page opened in it is watched.
  context.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(`console: ${m.text()} (${m.page()?.url()})`);
  });
  context.on('weberror', (e) => w.errors.push(`pageerror: ${e.error().message}`));
  context.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void (d.type() === 'confirm' ? d.accept() : d.dismiss());
  });
  // Anything off this server is recorded and refused: the dashboard must work offline.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
    w.external.push(url);
    return route.abort();
  });
  w.page = await context.newPage();
  return w;
}

/** Polls fn until it returns a truthy value, or fails after timeoutMs with the last value seen. */
export async function until<T>(
  what: string,
  fn: () => Promise<T>,
  timeoutMs = 60_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
