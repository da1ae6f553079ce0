// Charts of a sheet (DrawingML charts reached through the sheet's drawing): the
// chart's title, its type, and the cached series data as a small table, so a
// question about a chart finds the numbers behind it.
import { readRels, tidy } from './ooxml.ts';
import type { Section } from './types.ts';
import { find, findAll, kids, parseXml, textOf, type XmlElement } from './xml.ts';
import type { ZipArchive } from './zip-read.ts';

const CHART_NAMES: Record<string, string> = {
  barChart: 'Bar chart',
  bar3DChart: 'Bar chart',
  lineChart: 'Line chart',
  line3DChart: 'Line chart',
  pieChart: 'Pie chart',
  pie3DChart: 'Pie chart',
  doughnutChart: 'Doughnut chart',
  areaChart: 'Area chart',
  scatterChart: 'Scatter chart',
  radarChart: 'Radar chart',
};

/** Cached point values of a c:cat / c:val / c:tx element, by index. */
function points(el: XmlElement | undefined): string[] {
  const out: string[] = [];
  for (const pt of el ? findAll(el, 'pt') : []) {
    const v = kids(pt, 'v')[0];
    out[Number(pt.attrs['idx'] ?? out.length)] = v ? tidy(textOf(v)) : '';
  }
  return out;
}

/** Text of one chart part: title, type and a "category | series…" table. */
async function chartText(zip: ZipArchive, part: string): Promise<string> {
  const root = await parseXml(zip.readXml(part), `XLSX part ${part}`);
  const title = find(root, 'title');
  const lines: string[] = [];
  if (title) lines.push(tidy(findAll(title, 't').map(textOf).join(' ')));
  const plot = find(root, 'plotArea');
  for (const chart of plot ? kids(plot).filter((k) => k.name in CHART_NAMES) : []) {
    lines.push(CHART_NAMES[chart.name]!);
    const series = kids(chart, 'ser');
    const names = series.map((s, i) => points(kids(s, 'tx')[0])[0] ?? `Series ${i + 1}`);
    const cats = points(kids(series[0] ?? chart, 'cat')[0] ?? kids(series[0] ?? chart, 'xVal')[0]);
    const values = series.map((s) => points(kids(s, 'val')[0] ?? kids(s, 'yVal')[0]));
    const rows = Math.max(cats.length, ...values.map((v) => v.length));
    lines.push([' ', ...names].join(' | ').trim());
    for (let r = 0; r < rows && r < 10_000; r++)
      lines.push([cats[r] ?? '', ...values.map((v) => v[r] ?? '')].join(' | '));
  }
  return lines.filter(Boolean).join('\n');
}

/** Sections for the charts drawn on a sheet (worksheet or chartsheet), under the sheet name. */
export async function chartSections(
  zip: ZipArchive,
  sheetPart: string,
  sheetName: string,
): Promise<Section[]> {
  const out: Section[] = [];
  for (const drawing of (await readRels(zip, sheetPart)).values()) {
    if (!/drawings\/[^/]+\.xml$/.test(drawing) || !zip.has(drawing)) continue;
    for (const chart of (await readRels(zip, drawing)).values()) {
      if (!/charts\/[^/]+\.xml$/.test(chart) || !zip.has(chart)) continue;
      const text = await chartText(zip, chart);
      if (text) out.push({ text, headingPath: [sheetName] });
    }
  }
  return out;
}
