import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
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

/** How the walk treats symbolic links. */
export interface DiscoverOptions {
  /** Follow links whose target lies outside every path given (default: report and skip them). */
  readonly followSymlinks?: boolean;
}

const NOT_REGULAR = 'not a regular file (a FIFO, device or socket); copy the log into a file and ingest that';

/**
 * Walks files and directories (recursively, in sorted order), pruning trail-layout folders
 * that cannot hold events inside the scope. Files named directly are always included.
 *
 * Only regular files are read: a FIFO, a device (/dev/zero) or a socket, named or found, is
 * reported instead of blocking or streaming forever. A symbolic link met while walking is
 * followed when its target lies inside one of the given paths (or with `followSymlinks`);
 * one leading elsewhere is reported, so a planted link cannot pull /etc or a home folder into
 * the evidence. Every directory and file is visited once by its real path, so a link loop
 * ends and a file reached by two names is read once.
 */
export async function discoverFiles(paths: readonly string[], scope: Scope = {}, options: DiscoverOptions = {}): Promise<Discovery> {
  const files: FoundFile[] = [];
  const unreadable: Array<{ path: string; reason: string }> = [];
  let prunedDirectories = 0;
  let ignoredFiles = 0;
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();
  const roots: string[] = [];

  const inRoots = (real: string) => roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep));

  async function walk(dir: string, real: string): Promise<void> {
    if (visitedDirs.has(real)) return;
    visitedDirs.add(real);
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
      let info: Stats | Dirent = entry;
      let target = join(real, entry.name);
      if (entry.isSymbolicLink()) {
        const resolved = await realpath(full).catch((error: unknown) => error as NodeJS.ErrnoException);
        if (typeof resolved !== 'string') {
          if (LOG_NAME.test(entry.name) || resolved.code === 'ELOOP') unreadable.push({ path: full, reason: resolved.code === 'ELOOP' ? 'a symbolic link loop; nothing to read' : 'a symbolic link to nothing (its target is missing); check the link' });
          continue;
        }
        if (!options.followSymlinks && !inRoots(resolved)) {
          unreadable.push({ path: full, reason: `a symbolic link to ${resolved}, outside the paths given; not followed (name the target, or pass --follow-symlinks)` });
          continue;
        }
        target = resolved;
        const stats = await stat(resolved).catch(() => undefined);
        if (!stats) continue;
        info = stats;
      }
      if (info.isDirectory()) {
        if (!trailPathInScope(parseTrailPath(full), scope)) {
          prunedDirectories++;
          continue;
        }
        await walk(full, target);
      } else if (!LOG_NAME.test(entry.name)) {
        ignoredFiles++;
      } else if (info.isFile()) {
        add(full, false, target);
      } else {
        unreadable.push({ path: full, reason: NOT_REGULAR });
      }
    }
  }

  function add(path: string, explicit: boolean, real: string): void {
    if (seen.has(real)) return;
    seen.add(real);
    files.push({ path, explicit });
  }

  const given: Array<{ path: string; full: string; real: string; info: Stats }> = [];
  for (const path of paths) {
    const full = resolve(path);
    try {
      const real = await realpath(full);
      given.push({ path, full, real, info: await stat(real) });
    } catch (error) {
      unreadable.push({ path, reason: describeFsError(error) });
    }
  }
  // Every path given is a root, whichever order they come in.
  for (const g of given) if (g.info.isDirectory()) roots.push(g.real);
  for (const g of given) {
    if (g.info.isDirectory()) await walk(g.full, g.real);
    else if (g.info.isFile()) add(g.full, true, g.real);
    else unreadable.push({ path: g.path, reason: NOT_REGULAR });
  }
  return { files, unreadable, prunedDirectories, ignoredFiles };
}

/** A one-line reason for a file-system error, with what to do. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory; check the path';
  if (code === 'ELOOP') return 'a symbolic link loop; nothing to read';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied; run with access to the file or copy it somewhere readable';
  return (error as Error).message ?? String(error);
}
