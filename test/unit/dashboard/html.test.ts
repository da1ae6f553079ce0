// The dashboard's escaping and small helpers: everything from documents is text.
import { describe, expect, it } from 'vitest';
import { duration, escapeHtml, html, shortName } from '../../../src/dashboard/html.ts';
import { bindProblem } from '../../../src/dashboard/server.ts';
import { isLoopback, safeEqual } from '../../../src/tokens.ts';

describe('html', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const name = `<img src=x onerror=alert(1)>"'\`&.md`;
    expect(html`<a title="${name}">${name}</a>`.value).toBe(
      '<a title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&#96;&amp;.md">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&#96;&amp;.md</a>',
    );
  });

  it('keeps nested html and arrays of it as markup, and drops null, undefined and false', () => {
    const items = ['a<b', 'c'].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${items}${null}${undefined}${false}</ul>`.value).toBe(
      '<ul><li>a&lt;b</li><li>c</li></ul>',
    );
    expect(escapeHtml(0)).toBe('0');
  });
});

describe('formatting', () => {
  it.each([
    [null, '—'],
    [850, '850 ms'],
    [12_345, '12.3 s'],
    [245_000, '4 min 05 s'],
    [7_800_000, '2 h 10 min'],
    [5 * 86_400_000, '5 d'],
  ])('duration(%s) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it('shortName is the last path segment', () => {
    expect(shortName('/data/docs/report.pdf')).toBe('report.pdf');
    expect(shortName('s3://bucket/dir/')).toBe('dir');
  });
});

describe('binding and tokens', () => {
  it('loopback binds are open; any other bind needs a token', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(isLoopback(host), host).toBe(true);
      expect(bindProblem(host, undefined)).toBeUndefined();
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'dashboard.example.com', '127.0.0.1.evil.example']) {
      expect(isLoopback(host), host).toBe(false);
      expect(bindProblem(host, undefined)).toContain('SLUICE_DASHBOARD_TOKEN');
      expect(bindProblem(host, 'a-long-random-token')).toBeUndefined();
    }
  });

  it('safeEqual compares whole strings of any length', () => {
    expect(safeEqual('token-value', 'token-value')).toBe(true);
    expect(safeEqual('token-value', 'token-valuE')).toBe(false);
    expect(safeEqual('token-value', 'token')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
