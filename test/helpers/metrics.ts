// Prometheus exposition checks for tests: promtool's own parser and naming lint
// (Debian's `prometheus` package), and reading one sample's value.
import { spawnSync } from 'node:child_process';

/** Runs `promtool check metrics` on the text; status 0 means it parsed and passed the lint. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (res.error) throw new Error(`promtool is needed (apt-get install prometheus): ${res.error.message}`);
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

/** The value of the sample `name{labels}` (labels matched exactly, in any order); undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      found[pair[1]!] = pair[2]!;
    }
    const want = Object.entries(labels);
    if (want.length === Object.keys(found).length && want.every(([k, v]) => found[k] === v))
      return Number(m[3]);
  }
  return undefined;
}
