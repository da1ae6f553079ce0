// Plain-text tables for the benchmark's stdout report: right-aligned numbers,
// fixed decimals, a header rule. No dependencies.

export type Cell = string | number | undefined;

function show(c: Cell, digits: number): string {
  if (c === undefined || (typeof c === 'number' && !Number.isFinite(c))) return '—';
  if (typeof c === 'string') return c;
  return Number.isInteger(c) ? String(c) : c.toFixed(digits);
}

/** Renders rows under a header; numbers get `digits` decimals (integers stay whole). */
export function table(header: string[], rows: Cell[][], digits = 1): string {
  const cells = [header, ...rows.map((r) => r.map((c) => show(c, digits)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/** a / b, or NaN when b is zero. */
export function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}
