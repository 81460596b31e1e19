import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseTrailPath, trailPathInScope, type Scope } from './trail-layout.js';

/** A file found under the given paths, with what its location says. */
export interface FoundFile {
  readonly path: string;
  /** True when the user named the file itself (it is tried whatever its name). */
  readonly explicit: boolean;
}

/** The files to look at, and what was passed over on the way. */
export interface Discovery {
  readonly files: readonly FoundFile[];
  /** Paths that could not be read at all (missing, permission denied). */
  readonly unreadable: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** Files left out because their trail folder lies outside --since/--until/--account/--region. */
  readonly prunedDirectories: number;
  /** Files in walked directories whose names are not JSON logs (README, .DS_Store, …). */
  readonly ignoredFiles: number;
}

const LOG_NAME = /\.(json|jsonl|ndjson|log)(\.gz)?$|\.gz$/i;

/**
 * Walks files and directories (recursively, in sorted order), pruning trail-layout folders
 * that cannot hold events inside the scope. Files named directly are always included.
 */
export async function discoverFiles(paths: readonly string[], scope: Scope = {}): Promise<Discovery> {
  const files: FoundFile[] = [];
  const unreadable: Array<{ path: string; reason: string }> = [];
  let prunedDirectories = 0;
  let ignoredFiles = 0;
  const seen = new Set<string>();

  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      unreadable.push({ path: dir, reason: describeFsError(error) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) {
        if (!trailPathInScope(parseTrailPath(full), scope)) {
          prunedDirectories++;
          continue;
        }
        await walk(full);
      } else if (isFile) {
        if (!LOG_NAME.test(entry.name)) {
          ignoredFiles++;
          continue;
        }
        add(full, false);
      }
    }
  }

  function add(path: string, explicit: boolean): void {
    if (seen.has(path)) return;
    seen.add(path);
    files.push({ path, explicit });
  }

  for (const given of paths) {
    const full = resolve(given);
    let info;
    try {
      info = await stat(full);
    } catch (error) {
      unreadable.push({ path: given, reason: describeFsError(error) });
      continue;
    }
    if (info.isDirectory()) await walk(full);
    else add(full, true);
  }
  return { files, unreadable, prunedDirectories, ignoredFiles };
}

/** A one-line reason for a file-system error, with what to do. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory; check the path';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied; run with access to the file or copy it somewhere readable';
  return (error as Error).message ?? String(error);
}
