// Which files a source ignores: editor swap and backup files, partial downloads,
// temp files and dotfiles by default, then the user's include/exclude globs
// (SLUICE_WATCH_INCLUDE / SLUICE_WATCH_EXCLUDE), matched against the path
// relative to the source root with `/` separators.
import { matchesGlob } from 'node:path';

/** Names that are never documents: written by editors, browsers and downloaders while in progress. */
const TEMP_NAME = /(\.(swp|swo|swx|part|partial|crdownload|download|tmp|temp)$|~$|^~\$|^#.*#$|^\.#)/i;

export interface IgnoreRules {
  /** True when a file at this relative path is not a document. */
  ignoresFile(relPath: string): boolean;
  /** True when a folder at this relative path is not descended into. */
  ignoresDir(relPath: string): boolean;
}

export interface IgnoreOptions {
  include?: string[] | undefined;
  exclude?: string[] | undefined;
}

/** Splits a comma-separated glob list from the environment. */
export function globList(value: string | undefined): string[] | undefined {
  const list = value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list && list.length > 0 ? list : undefined;
}

export function ignoreRules(opts: IgnoreOptions = {}): IgnoreRules {
  const include = opts.include ?? [];
  const exclude = opts.exclude ?? [];
  const excluded = (rel: string) => exclude.some((g) => matchesGlob(rel, g));
  return {
    ignoresFile(rel) {
      const parts = rel.split('/');
      const name = parts.at(-1) ?? '';
      if (parts.some((p) => p.startsWith('.')) || TEMP_NAME.test(name)) return true;
      if (excluded(rel)) return true;
      return include.length > 0 && !include.some((g) => matchesGlob(rel, g));
    },
    ignoresDir(rel) {
      if (rel === '' || rel === '.') return false;
      const name = rel.split('/').at(-1) ?? '';
      return name.startsWith('.') || excluded(rel) || exclude.some((g) => matchesGlob(`${rel}/`, g));
    },
  };
}
