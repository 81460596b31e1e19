/**
 * Writing a report to --out without turning the path against the user: the file is written
 * whole or not at all, and only ever to a regular file that is not a store.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, realpathSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { isStoreFile } from '../store/store.js';

/**
 * Refuses an output path that is a link, a device, a folder, a FIFO, the store being read
 * (or its write-ahead log) or any other DuckDB store, with what to do instead.
 */
export function checkOutputPath(out: string, storePath?: string): void {
  let info;
  try {
    info = lstatSync(out);
  } catch {
    info = undefined;
  }
  if (info?.isSymbolicLink()) throw new UsageError(`--out ${out} is a symbolic link; trailhound does not write through links: name the file itself${out.startsWith('/dev/') ? ', or leave --out off to write to stdout' : ''}`);
  if (info && !info.isFile()) throw new UsageError(`--out ${out} is not a regular file (a folder, device, FIFO or socket); name a file, or leave --out off to write to stdout`);
  const target = resolve(out);
  if (storePath && storePath !== ':memory:') {
    const store = resolve(storePath);
    const same = (a: string, b: string) => a === b || (real(a) ?? a) === (real(b) ?? b);
    if (same(target, store) || same(target, `${store}.wal`)) throw new UsageError(`--out ${out} is the store being read; name another file`);
  }
  if (info && info.size > 0 && isStoreFile(target)) throw new UsageError(`--out ${out} is a trailhound store; name another file`);
}

/**
 * Writes `text` to `out` atomically: a new private file beside it (created exclusively, so a
 * planted link at that name is never followed), then renamed over it.
 */
export async function writeOutputFile(out: string, text: string, storePath?: string): Promise<void> {
  checkOutputPath(out, storePath);
  const partial = join(dirname(resolve(out)), `.${basename(out)}.partial-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(partial, 'wx', 0o644);
    try {
      await handle.writeFile(text, 'utf8');
    } finally {
      await handle.close();
    }
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such directory' : code === 'ENOSPC' ? 'the disk is full' : ((error as Error).message ?? String(error)).split('\n')[0];
    throw new UsageError(`cannot write ${out}: ${reason}; check the path`, { cause: error });
  }
}

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
