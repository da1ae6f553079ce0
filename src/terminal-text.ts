// Text from users (file names, object keys, queries) and from errors that quote
// them reaches terminals. Control characters in it (C0, DEL, C1 such as CSI, and
// bidi overrides) would move the cursor, recolour, ring the bell or reorder the
// line, so everything the CLI prints passes through escapeControls.

// C0 (ESC included), DEL, C1, and the bidi embeddings/overrides/isolates.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

/**
 * Control characters shown as visible escapes (`\u{1b}`, `\n`), so a name prints
 * as one inert line. `keepNewlines` is for output that is multi-line by design.
 */
export function escapeControls(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(opts.keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL, visible);
}

// JSON.stringify escapes C0 but leaves DEL, C1 and bidi characters raw.
const RAW_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with every control character as a \uXXXX escape: same value, terminal-safe. */
export function terminalSafeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(
    RAW_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
