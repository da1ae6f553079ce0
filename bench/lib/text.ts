// Deterministic document content for the benchmark corpus: a seeded PRNG and a
// document "spec" (title, heading-structured sections of paragraphs) that every
// renderer (Markdown, HTML, text, PDF, DOCX) turns into the same words. Editing
// a spec changes a few paragraphs only, as a person revising a document would.

/** mulberry32: small, fast, good enough for content; same sequence on every platform. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seed for document `index` of a corpus seeded with `seed` (optionally for an edit). */
export function docSeed(seed: number, index: number, salt = 0): number {
  return (Math.imul(seed ^ 0x9e3779b9, 2654435761) + Math.imul(index + 1, 40503) + salt * 7919) >>> 0;
}

const WORDS = (
  'the of and to in a is that for it as was with be by on not he this are or his from at which but ' +
  'have an they you were her she there been one all we their has would when if so no will more can ' +
  'system data model process pipeline document index vector query result value table record field ' +
  'network server client request response latency throughput memory storage cache queue worker stage ' +
  'customer account invoice payment order product shipment warehouse supplier contract policy audit ' +
  'research method analysis sample measure experiment hypothesis evidence review report summary ' +
  'river mountain forest village harbour bridge railway market festival garden museum library ' +
  'council budget committee proposal schedule deadline milestone release version feature defect ' +
  'patient treatment clinical dosage symptom trial outcome protocol consent cohort baseline ' +
  'engineer operator manager analyst designer teacher student author editor reviewer partner ' +
  'quickly carefully rarely usually often always never nearly mostly partly fully only also ' +
  'important significant reliable expensive efficient secure simple complex robust consistent ' +
  'increase reduce improve measure compare deliver support require include describe provide ' +
  'annual quarterly monthly weekly daily regional national global internal external primary'
).split(' ');
const NAMES = 'Alder Birch Cedar Dunmore Elgin Fairholm Garron Hawick Inverey Jura Kelso Lomond'.split(' ');

/** A section: its heading level (1–3), heading text and paragraphs. */
export interface SectionSpec {
  level: number;
  heading: string;
  paragraphs: string[];
}

export interface DocSpec {
  title: string;
  sections: SectionSpec[];
}

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** Fisher–Yates with the given PRNG (Array.sort with a random comparator is engine-dependent). */
export function shuffle<T>(items: T[], r: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function sentence(r: () => number): string {
  const n = 6 + Math.floor(r() * 18);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.04) words.push(String(Math.floor(r() * 10_000)));
    else if (x < 0.07) words.push(pick(r, NAMES));
    else words.push(pick(r, WORDS));
  }
  const s = words.join(' ');
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}${r() < 0.1 ? '?' : '.'}`;
}

/** One paragraph of 2–8 sentences (~150–1,000 characters). */
export function paragraph(r: () => number): string {
  const n = 2 + Math.floor(r() * 7);
  return Array.from({ length: n }, () => sentence(r)).join(' ');
}

function heading(r: () => number): string {
  const n = 2 + Math.floor(r() * 4);
  const s = Array.from({ length: n }, () => pick(r, WORDS)).join(' ');
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}`;
}

/**
 * A document of about `targetChars` characters: a title, then sections under
 * h1/h2/h3 headings with 1–6 paragraphs each.
 */
export function makeSpec(seed: number, index: number, targetChars: number): DocSpec {
  const r = rng(seed);
  const title = `${pick(r, NAMES)} ${heading(r)} (${index})`;
  const sections: SectionSpec[] = [];
  let chars = 0;
  let level = 1;
  while (chars < targetChars) {
    const paragraphs = Array.from({ length: 1 + Math.floor(r() * 6) }, () => paragraph(r));
    sections.push({ level, heading: heading(r), paragraphs });
    chars += paragraphs.reduce((n, p) => n + p.length + 2, 0);
    level = level === 1 ? 2 : r() < 0.3 ? 1 : r() < 0.5 ? 3 : 2;
  }
  return { title, sections };
}

/**
 * The same document revised: `changes` paragraphs (in different sections where
 * possible) get one sentence rewritten and one appended. Everything else is kept.
 */
export function editSpec(spec: DocSpec, seed: number, changes = 2): DocSpec {
  const r = rng(seed);
  const sections = spec.sections.map((s) => ({ ...s, paragraphs: [...s.paragraphs] }));
  const order = shuffle(
    sections.map((_, i) => i),
    r,
  );
  for (const si of order.slice(0, Math.min(changes, sections.length))) {
    const s = sections[si]!;
    const pi = Math.floor(r() * s.paragraphs.length);
    const sentences = s.paragraphs[pi]!.split(/(?<=[.?]) /);
    sentences[Math.floor(r() * sentences.length)] = sentence(r);
    sentences.push(`Revised: ${sentence(r)}`);
    s.paragraphs[pi] = sentences.join(' ');
  }
  return { title: spec.title, sections };
}

/** Character length of the spec's text, for sizing. */
export function specChars(spec: DocSpec): number {
  return spec.sections.reduce(
    (n, s) => n + s.heading.length + s.paragraphs.reduce((m, p) => m + p.length + 2, 0),
    spec.title.length,
  );
}
