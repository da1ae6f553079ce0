// HTML building for the dashboard: a tagged template that escapes every value
// unless it is already markup, the page shell, and number/time formatting.
// Everything from documents (names, titles, errors, chunk text) goes through here.

/** Markup that is already safe to emit (built by `html`). */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(part);
}

/** Tagged template: interpolations are escaped; nested `html` results and arrays of them are not. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

export interface PageOptions {
  title: string;
  /** Which nav link is current. */
  nav?: 'overview' | 'search' | 'none';
  /** Shows the sign-out button (only when a token protects the dashboard). */
  signedIn?: boolean;
  csrf?: string;
}

/** The page shell: local stylesheet and script only (no CDN), phone-width viewport. */
export function page(opts: PageOptions, body: SafeHtml): string {
  const signOut =
    opts.signedIn && opts.csrf
      ? html`<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${opts.csrf}"><button type="submit" class="link">Sign out</button></form>`
      : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${opts.title} · sluice</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/live.js" defer></script>
</head>
<body>
<header>
  <a href="/" class="brand">sluice</a>
  <nav>
    <a href="/"${opts.nav === 'overview' ? html` aria-current="page"` : ''}>Overview</a>
    <a href="/queues">Queues</a>
    <form method="get" action="/search" class="search" role="search">
      <input type="search" name="q" placeholder="Search chunks" aria-label="Search chunks" required maxlength="500">
    </form>
    ${signOut}
  </nav>
</header>
<main>
${body}
</main>
</body>
</html>`.value;
}

/** 1234 → "1,234". */
export function num(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US');
}

/** Milliseconds as a short human duration: 850 ms, 12.3 s, 4 min 05 s, 2 h 10 min. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d`;
}

/** The last path segment of a document uri, for compact tables (the full uri goes in a title). */
export function shortName(uri: string): string {
  const trimmed = uri.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1) || uri;
}

export function isoTime(d: Date | null | undefined): string {
  return d
    ? d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '—';
}
