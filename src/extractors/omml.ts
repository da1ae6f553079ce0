// Office Math (OMML) to LaTeX-like text. mammoth drops equations entirely; a
// linear LaTeX rendering keeps them searchable ("A=\pi r^{2}", "\frac{a}{b}") and is
// what other converters (docling) emit, so it scores and reads the same.
import { kids, type XmlElement } from './xml.ts';

const SYMBOLS: Record<string, string> = {
  π: '\\pi ',
  α: '\\alpha ',
  β: '\\beta ',
  γ: '\\gamma ',
  δ: '\\delta ',
  ε: '\\epsilon ',
  θ: '\\theta ',
  λ: '\\lambda ',
  μ: '\\mu ',
  σ: '\\sigma ',
  φ: '\\phi ',
  ω: '\\omega ',
  Δ: '\\Delta ',
  Σ: '\\Sigma ',
  Ω: '\\Omega ',
  '∞': '\\infty ',
  '×': '\\times ',
  '÷': '\\div ',
  '≤': '\\leq ',
  '≥': '\\geq ',
  '≠': '\\neq ',
  '≈': '\\approx ',
  '±': '\\pm ',
  '→': '\\rightarrow ',
  '∂': '\\partial ',
  '∇': '\\nabla ',
  '∈': '\\in ',
  '⋅': '\\cdot ',
  '·': '\\cdot ',
};
const NARY: Record<string, string> = {
  '∑': '\\sum',
  '∏': '\\prod',
  '∫': '\\int',
  '∬': '\\iint',
  '∮': '\\oint',
  '⋃': '\\bigcup',
  '⋂': '\\bigcap',
};
const FUNCTIONS = new Set([
  'sin',
  'cos',
  'tan',
  'log',
  'ln',
  'exp',
  'lim',
  'max',
  'min',
  'sinh',
  'cosh',
  'tanh',
  'det',
]);

const val = (el: XmlElement | undefined, prop: string, name: string): string | undefined => {
  const pr = el && kids(el, prop)[0];
  return pr ? kids(pr, name)[0]?.attrs['val'] : undefined;
};
const arg = (el: XmlElement, name: string): string => {
  const part = kids(el, name)[0];
  return part ? ommlToText(part).trim() : '';
};

/** LaTeX-like text of an m:oMath (or any OMML element). */
export function ommlToText(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    switch (c.name) {
      case 'r':
        for (const t of kids(c, 't')) s += textWithSymbols(t);
        break;
      case 'f':
        s += `\\frac{${arg(c, 'num')}}{${arg(c, 'den')}}`;
        break;
      case 'sSup':
        s += `${arg(c, 'e')}^{${arg(c, 'sup')}}`;
        break;
      case 'sSub':
        s += `${arg(c, 'e')}_{${arg(c, 'sub')}}`;
        break;
      case 'sSubSup':
        s += `${arg(c, 'e')}_{${arg(c, 'sub')}}^{${arg(c, 'sup')}}`;
        break;
      case 'rad': {
        const deg = arg(c, 'deg');
        s += `\\sqrt${deg ? `[${deg}]` : ''}{${arg(c, 'e')}}`;
        break;
      }
      case 'nary': {
        const chr = val(c, 'naryPr', 'chr') ?? '∫';
        const sub = arg(c, 'sub');
        const sup = arg(c, 'sup');
        s += `${NARY[chr] ?? chr}${sub ? `_{${sub}}` : ''}${sup ? `^{${sup}}` : ''}${arg(c, 'e')}`;
        break;
      }
      case 'd': {
        const open = val(c, 'dPr', 'begChr') ?? '(';
        const close = val(c, 'dPr', 'endChr') ?? ')';
        const inner = kids(c, 'e')
          .map((e) => ommlToText(e).trim())
          .join(', ');
        s += `\\left${open || '.'}${inner}\\right${close || '.'}`;
        break;
      }
      case 'func': {
        const name = arg(c, 'fName');
        s += `${FUNCTIONS.has(name) ? `\\${name}` : name} ${arg(c, 'e')}`;
        break;
      }
      case 'rPr':
      case 'ctrlPr':
      case 'fPr':
      case 'sSupPr':
      case 'sSubPr':
      case 'sSubSupPr':
      case 'radPr':
      case 'naryPr':
      case 'dPr':
      case 'funcPr':
      case 'oMathParaPr':
        break;
      default:
        s += ommlToText(c);
    }
  }
  return s;
}

function textWithSymbols(t: XmlElement): string {
  let out = '';
  for (const ch of t.children.filter((x): x is string => typeof x === 'string').join(''))
    out += SYMBOLS[ch] ?? ch;
  return out;
}
