// EBCDIC (IBM mainframe) text: cp037 (US/Canada) and cp500 (international), which
// differ in seven punctuation bytes. Neither Node's TextDecoder nor iconv-lite has
// them, so the tables live here (generated from Python's codecs). Recognised by its
// shape: EBCDIC prose is full of 0x40 (space) and 0x81–0xE9 (letters) and has almost
// no 0x20, which in EBCDIC is a control byte.

/** cp037 byte → character. NEL (0x15) is the usual EBCDIC line end. */
const CP037 =
  '\u0000\u0001\u0002\u0003\u009c\u0009\u0086\u007f\u0097\u008d\u008e\u000b\u000c\u000d\u000e\u000f\u0010\u0011\u0012\u0013\u009d\u0085\u0008\u0087\u0018\u0019\u0092\u008f\u001c\u001d\u001e\u001f' +
  '\u0080\u0081\u0082\u0083\u0084\u000a\u0017\u001b\u0088\u0089\u008a\u008b\u008c\u0005\u0006\u0007\u0090\u0091\u0016\u0093\u0094\u0095\u0096\u0004\u0098\u0099\u009a\u009b\u0014\u0015\u009e\u001a' +
  ' \u00a0\u00e2\u00e4\u00e0\u00e1\u00e3\u00e5\u00e7\u00f1\u00a2.<(+|&\u00e9\u00ea\u00eb\u00e8\u00ed\u00ee\u00ef\u00ec\u00df!\u0024*);\u00ac' +
  '-/\u00c2\u00c4\u00c0\u00c1\u00c3\u00c5\u00c7\u00d1\u00a6,%_>?\u00f8\u00c9\u00ca\u00cb\u00c8\u00cd\u00ce\u00cf\u00cc\u0060:#@\u0027="' +
  '\u00d8abcdefghi\u00ab\u00bb\u00f0\u00fd\u00fe\u00b1\u00b0jklmnopqr\u00aa\u00ba\u00e6\u00b8\u00c6\u00a4' +
  '\u00b5~stuvwxyz\u00a1\u00bf\u00d0\u00dd\u00de\u00ae^\u00a3\u00a5\u00b7\u00a9\u00a7\u00b6\u00bc\u00bd\u00be[]\u00af\u00a8\u00b4\u00d7' +
  '{ABCDEFGHI\u00ad\u00f4\u00f6\u00f2\u00f3\u00f5}JKLMNOPQR\u00b9\u00fb\u00fc\u00f9\u00fa\u00ff' +
  '\u005c\u00f7STUVWXYZ\u00b2\u00d4\u00d6\u00d2\u00d3\u00d50123456789\u00b3\u00db\u00dc\u00d9\u00da\u009f';

/** Where cp500 differs from cp037: brackets, '!', '^', '|', '¢', '¬'. */
const CP500_DIFF: Record<number, string> = {
  74: '[',
  79: '!',
  90: ']',
  95: '^',
  176: '\u00a2',
  186: '\u00ac',
  187: '|',
};

export type EbcdicCharset = 'ibm037' | 'ibm500';

/** Decode EBCDIC bytes; NEL becomes a line feed so lines survive. */
export function decodeEbcdic(bytes: Uint8Array, charset: EbcdicCharset): string {
  const parts: string[] = [];
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const ch = (charset === 'ibm500' ? CP500_DIFF[b] : undefined) ?? CP037[b]!;
    out += ch === '\u0085' ? '\n' : ch;
    if (out.length >= 65_536) {
      parts.push(out);
      out = '';
    }
  }
  parts.push(out);
  return parts.join('');
}

/** Letters, digits, space and the common punctuation of EBCDIC text. */
function isEbcdicTextByte(b: number): boolean {
  return (
    b === 0x40 ||
    b === 0x4b ||
    b === 0x6b ||
    b === 0x7d ||
    b === 0x5e ||
    b === 0x7a ||
    b === 0x60 ||
    b === 0x15 ||
    b === 0x25 ||
    b === 0x0d ||
    b === 0x05 ||
    (b >= 0x81 && b <= 0xa9) ||
    (b >= 0xc1 && b <= 0xe9) ||
    (b >= 0xf0 && b <= 0xf9) ||
    (b >= 0x4a && b <= 0x50) ||
    (b >= 0x5a && b <= 0x61)
  );
}

/**
 * The EBCDIC flavour of `sample`, or undefined when it is not EBCDIC text. cp500
 * is chosen when '[' and ']' (0x4A/0x5A there, '¢'/'!' in cp037) come in pairs.
 */
export function detectEbcdic(sample: Uint8Array): EbcdicCharset | undefined {
  if (sample.length < 16) return undefined;
  let spaces = 0;
  let asciiSpaces = 0;
  let text = 0;
  let open = 0;
  let close = 0;
  for (const b of sample) {
    if (b === 0x40) spaces++;
    else if (b === 0x20) asciiSpaces++;
    if (isEbcdicTextByte(b)) text++;
    if (b === 0x4a) open++;
    else if (b === 0x5a) close++;
  }
  const n = sample.length;
  if (spaces < n * 0.05 || asciiSpaces > n * 0.01 || text < n * 0.9) return undefined;
  return open > 0 && open === close ? 'ibm500' : 'ibm037';
}
