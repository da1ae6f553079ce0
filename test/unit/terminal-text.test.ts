// The one escaping helper for terminal output: C0, DEL, C1 and bidi controls become
// visible escapes; newlines stay only where output is multi-line by design.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { escapeControls, terminalSafeJson } from '../../src/terminal-text.ts';

const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('escapeControls', () => {
  it('escapes ESC sequences, the bell, DEL and C1 controls', () => {
    expect(escapeControls('a\u001b[31mb\u0007c\u007fd\u009be')).toBe('a\\u{1b}[31mb\\u{7}c\\u{7f}d\\u{9b}e');
  });

  it('keeps newlines only when asked, and is idempotent', () => {
    expect(escapeControls('one\ntwo\r\t')).toBe('one\\ntwo\\u{d}\\t');
    expect(escapeControls('one\ntwo\u001b', { keepNewlines: true })).toBe('one\ntwo\\u{1b}');
    const once = escapeControls('x\u001b\u009b');
    expect(escapeControls(once)).toBe(once);
  });

  it('leaves ordinary text, accents and CJK alone', () => {
    expect(escapeControls('ünïcødé 文件 “quoted”')).toBe('ünïcødé 文件 “quoted”');
  });
});

describe('terminalSafeJson', () => {
  it('escapes DEL, C1 and bidi characters JSON.stringify leaves raw, keeping the value', () => {
    const value = { name: 'a\u009b\u007f\u202eb\u001b' };
    const text = terminalSafeJson(value);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).not.toContain('\u202e');
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('log lines', () => {
  it('never carry a raw control character, in text or JSON form', () => {
    for (const json of [false, true]) {
      const lines: string[] = [];
      const log = createLogger('info', { json, write: (l) => lines.push(l) });
      log.warn('extract failed for /in\u001b[31mbox/\u0007x\u009b.pdf', { uri: '/a\u009bb' });
      expect(lines.join('').replace(/\n$/, '')).not.toMatch(RAW_CONTROL);
    }
  });
});
