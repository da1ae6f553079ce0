// A small XML tree for the Office, ODF and EPUB parts: htmlparser2 in XML mode (no
// DTD processing, so no entity expansion or external fetches) builds plain nodes,
// with a nesting limit so a hostile part cannot blow the stack of the walkers.
// Elements are matched by local name: OOXML "strict" and transitional files use
// different prefixes and namespaces for the same elements.
import { SluiceError } from '../errors.ts';

export interface XmlElement {
  /** Local name, prefix dropped ("a:t" → "t"). */
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

/** Deepest element nesting accepted; real documents stay far below it. */
export const MAX_XML_DEPTH = 256;

export const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

/** Parse `xml` into a tree rooted at a synthetic `#document` element. */
export async function parseXml(xml: string, where: string): Promise<XmlElement> {
  const { Parser } = await import('htmlparser2');
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (stack.length > MAX_XML_DEPTH)
          throw new SluiceError(
            'CORRUPT_FILE',
            `${where} nests elements deeper than ${MAX_XML_DEPTH} levels`,
          );
        const attrs: Record<string, string> = {};
        for (const [k, v] of Object.entries(attribs)) attrs[localName(k)] = v;
        const el: XmlElement = { name: localName(name), attrs, children: [] };
        stack.at(-1)!.children.push(el);
        stack.push(el);
      },
      ontext(text) {
        const kids = stack.at(-1)!.children;
        const last = kids.at(-1);
        if (typeof last === 'string') kids[kids.length - 1] = last + text;
        else kids.push(text);
      },
      onclosetag() {
        if (stack.length > 1) stack.pop();
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
  return root;
}

/** Direct child elements named `name` (local name), or all child elements. */
export function kids(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children)
    if (typeof c !== 'string' && (name === undefined || c.name === name)) out.push(c);
  return out;
}

/** First descendant (depth-first, document order) named `name`. */
export function find(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    if (c.name === name) return c;
    const hit = find(c, name);
    if (hit) return hit;
  }
  return undefined;
}

/** All descendants named `name`, in document order (not looking inside matches). */
export function findAll(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    if (c.name === name) out.push(c);
    else findAll(c, name, out);
  }
  return out;
}

/** Concatenated text of `el` and its descendants. */
export function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) s += typeof c === 'string' ? c : textOf(c);
  return s;
}

/** Callbacks for {@link streamXml}; names are local names. */
export interface XmlHandlers {
  open?(name: string, attrs: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
}

/**
 * Parse XML bytes without building a tree (huge worksheets and shared-string
 * tables), decoding and feeding them in 1 MB slices. Handlers may throw to stop.
 */
export async function streamXml(bytes: Uint8Array, where: string, h: XmlHandlers): Promise<void> {
  const { Parser } = await import('htmlparser2');
  let depth = 0;
  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (++depth > MAX_XML_DEPTH)
          throw new SluiceError(
            'CORRUPT_FILE',
            `${where} nests elements deeper than ${MAX_XML_DEPTH} levels`,
          );
        if (!h.open) return;
        const attrs: Record<string, string> = {};
        for (const [k, v] of Object.entries(attribs)) attrs[localName(k)] = v;
        h.open(localName(name), attrs);
      },
      ontext: (t) => h.text?.(t),
      onclosetag(name) {
        depth--;
        h.close?.(localName(name));
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  const decoder = new TextDecoder('utf-8');
  const SLICE = 1 << 20;
  for (let at = 0; at < bytes.length; at += SLICE) {
    parser.write(decoder.decode(bytes.subarray(at, at + SLICE), { stream: true }));
  }
  parser.end(decoder.decode());
}
