import { describe, expect, it } from 'vitest';
import { htmlExtractor } from '../../../src/extractors/html.ts';
import { DEFAULT_LIMITS, type ExtractedDocument } from '../../../src/extractors/types.ts';
import { runExtractorContract } from './contract.ts';
import { fixture } from './fixtures.ts';

const mime = 'text/html';
const run = (bytes: Uint8Array) => htmlExtractor.extract({ bytes, mime, limits: DEFAULT_LIMITS });
const html = (s: string) => run(new TextEncoder().encode(s));
const all = (doc: ExtractedDocument) => doc.sections.map((s) => s.text).join('\n\n');

runExtractorContract(htmlExtractor, { sample: fixture('html/deb-pkg-basics.en.html'), mime });

describe('html extractor on corpus files', () => {
  it('extracts the PostgreSQL datetime manual page with tables and headings', async () => {
    const doc = await run(fixture('html/deb-datatype-datetime.html'));
    expect(doc.title).toMatch(/Date\/Time Types/);
    const text = all(doc);
    expect(text).toMatch(/Name \| Storage Size \| Description/);
    expect(text).toContain('timestamp [ (p) ] [ without time zone ] | 8 bytes');
    expect(doc.sections.some((s) => (s.headingPath ?? []).some((h) => /Date\/Time Input/.test(h)))).toBe(
      true,
    );
  });

  it('extracts the Debian FAQ chapter', async () => {
    const doc = await run(fixture('html/deb-pkg-basics.en.html'));
    expect(doc.title).toBeTruthy();
    expect(all(doc)).toMatch(/What is a Debian package\?/);
    expect(all(doc)).not.toMatch(/<\/?(?:div|p|span|a|table|td)\b/);
  });

  it('decodes the noisy-meta Arabic page', async () => {
    const doc = await run(fixture('html/tika-testHTMLNoisyMetaEncoding_1.html'));
    expect(all(doc)).toContain('أعرب');
    expect(all(doc)).not.toContain('font-family');
  });

  it('decodes windows-1252 and keeps the heading', async () => {
    const doc = await run(fixture('html/uns-fake-html-cp1252.html'));
    expect(doc.title).toBe('My First Heading');
    expect(all(doc)).toContain('Der Preis betrug 15,50 €.');
    expect(all(doc)).toContain('El niño comió paella');
  });

  it('reads the page mistaken for IBM420', async () => {
    expect(all(await run(fixture('html/tika-test_ignore_IBM420.html')))).toContain('Please check your email');
  });

  it('reads broken HTML that looks like a mail message', async () => {
    const doc = await run(fixture('html/tika-testBrokenHTMLContainingRFC822.html'));
    expect(doc.title).toBe('A heading');
    expect(all(doc)).toContain('Subject: An exciting subject');
  });
});

describe('html structure', () => {
  it('drops scripts, styles and boilerplate', async () => {
    const doc = await html(
      '<html><head><title>T</title><script>var secret = 1</script></head><body>' +
        '<nav>Menu</nav><header>Site banner</header><aside>Ads</aside><p>Kept</p>' +
        '<script>alert("x")</script><noscript>no js</noscript><div hidden>hid</div>' +
        '<template>tpl</template><svg><text>svg text</text></svg><footer>Footer</footer></body></html>',
    );
    expect(doc.title).toBe('T');
    expect(all(doc)).toBe('Kept');
  });

  it('builds heading paths and keeps a header inside an article', async () => {
    const doc = await html(
      '<article><header><h1>Main</h1></header><p>a</p><h2>Sub</h2><p>b</p><h3>Deep</h3><p>c</p><h2>Next</h2><p>d</p></article>',
    );
    expect(doc.title).toBe('Main');
    expect(doc.sections.map((s) => [s.headingPath, s.text])).toEqual([
      [['Main'], 'Main\na'],
      [['Main', 'Sub'], 'Sub\nb'],
      [['Main', 'Sub', 'Deep'], 'Deep\nc'],
      [['Main', 'Next'], 'Next\nd'],
    ]);
  });

  it('renders tables as rows with the header row', async () => {
    const doc = await html(
      '<table><tr><th>Name</th><th>Size</th></tr><tr><td><p>alpha</p></td><td>1</td></tr><tr><td>beta</td><td>2</td></tr></table>',
    );
    expect(all(doc)).toBe('Name | Size\nalpha | 1\nbeta | 2');
  });

  it('lists, blockquotes and pre keep their lines', async () => {
    const doc = await html(
      '<ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote><pre>a  b\n  c</pre>',
    );
    expect(all(doc)).toBe('- one\n- two\nquoted\na  b\n  c');
  });

  it('survives 100,000 levels of nesting without recursion', async () => {
    const depth = 100_000;
    const doc = await html(
      `<html><body>${'<div>'.repeat(depth)}deep text<script>evil()</script>${'</div>'.repeat(depth)}</body></html>`,
    );
    expect(all(doc)).toBe('deep text');
  }, 30_000);

  it('throws NO_TEXT for markup without text', async () => {
    await expect(html('<html><head><style>p{}</style></head><body> </body></html>')).rejects.toMatchObject({
      code: 'NO_TEXT',
    });
  });
});

describe('html extractor: layout tables, spans and images', () => {
  it('finds headings inside a layout table and reads its cells as blocks', async () => {
    const doc = await html(
      '<html><body><table><tr><td><h1>Annual report</h1><p>Sales grew.</p></td><td><h2>Outlook</h2><p>Calm seas ahead.</p></td></tr></table></body></html>',
    );
    expect(doc.sections).toEqual([
      { text: 'Annual report\nSales grew.', headingPath: ['Annual report'] },
      { text: 'Outlook\nCalm seas ahead.', headingPath: ['Annual report', 'Outlook'] },
    ]);
  });

  it('keeps a data table nested in a layout table as rows', async () => {
    const doc = await html(
      '<table role="presentation"><tr><td><h2>Prices</h2><table><tr><th>Item</th><th>Cost</th></tr><tr><td>Tea</td><td>2</td></tr></table></td></tr></table>',
    );
    expect(doc.sections).toEqual([{ text: 'Prices\nItem | Cost\nTea | 2', headingPath: ['Prices'] }]);
  });

  it('repeats rowspan and colspan cells on every row and column they cover', async () => {
    const doc = await html(
      '<table><tr><th rowspan="2">Region</th><th colspan="2">Sales</th></tr><tr><th>Q1</th><th>Q2</th></tr>' +
        '<tr><td rowspan="2">North</td><td>5</td><td>6</td></tr><tr><td>7</td><td>8</td></tr></table>',
    );
    expect(all(doc)).toBe('Region | Sales | Sales\nRegion | Q1 | Q2\nNorth | 5 | 6\nNorth | 7 | 8');
  });

  it('keeps image alt text, except where a figure caption describes the image', async () => {
    const doc = await html(
      '<p>Before <img src="a.png" alt="A heron standing in reeds"> after.</p><figure><img src="b.png" alt="duplicate"><figcaption>Figure 2: otters</figcaption></figure>',
    );
    expect(all(doc)).toBe('Before A heron standing in reeds after.\nFigure 2: otters');
  });
});
