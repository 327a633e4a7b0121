/**
 * File-system helpers for the dataset cache. A cache entry appears whole or not at all: it is
 * written under a temporary name beside its final place (same directory, so the same file
 * system) and renamed into place only once complete and checked; anything temporary is removed
 * when a step fails.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { throttledProgress } from './progress.js';
import type { LoadProgress } from './types.js';

/** A fresh hidden path beside `finalPath`, e.g. `.cifar-10-binary.tar.gz.1234.a1b2c3d4.part`. */
export function temporaryPathBeside(finalPath: string, suffix: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${process.pid}.${randomBytes(4).toString('hex')}.${suffix}`);
}

/** Removes a file or directory, ignoring failures: used while already handling an error. */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** A one-line reason for a file-system error code. */
function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return code ?? (error as Error).message;
  }
}

/** Reads a whole file; failure is an InputError naming it. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InputError(`${path}: cannot read (${describeFsError(error)})`, path);
  }
}

/** Creates a cache directory; failure is an InputError naming it. */
export async function ensureDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw new InputError(`${path}: cannot create the data directory (${describeFsError(error)})`, path);
  }
}

/** Rethrows a file-system error met while writing into `path` as an InputError naming it; other errors pass through. */
export function asWriteError(error: unknown, path: string): unknown {
  if (error instanceof InputError || (error as Error)?.name === 'AbortError') return error;
  if (typeof (error as NodeJS.ErrnoException)?.code !== 'string' || (error as NodeJS.ErrnoException).syscall === undefined) return error;
  return new InputError(`${path}: cannot write (${describeFsError(error)})`, path);
}

/** The hex MD5 of a file, read as a stream, reporting 'verify' progress in bytes. */
export async function md5OfFile(path: string, onProgress?: (progress: LoadProgress) => void, signal?: AbortSignal): Promise<string> {
  const total = (await stat(path)).size;
  const hash = createHash('md5');
  const report = throttledProgress(onProgress, 'verify', path, total);
  let done = 0;
  report(done);
  const stream = createReadStream(path, { signal });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      done += chunk.length;
      report(done);
    }
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new InputError(`${path}: cannot read (${describeFsError(error)})`, path);
  }
  return hash.digest('hex');
}

/** Throws an InputError naming `file` unless `actual` is `expected` (hex MD5s, any case). */
export function checkMd5(file: string, actual: string, expected: string): void {
  if (actual.toLowerCase() !== expected.toLowerCase()) {
    throw new InputError(`${file}: MD5 checksum ${actual} does not match the published ${expected.toLowerCase()} (corrupt, truncated or not the official file)`, file);
  }
}

/**
 * Renames the finished directory `source` to `destination`. When another process got there
 * first (the destination exists), its copy is kept and ours removed: both were made from the
 * same verified data.
 */
export async function renameDirectoryIntoPlace(source: string, destination: string): Promise<void> {
  try {
    await rename(source, destination);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'EEXIST' || code === 'ENOTEMPTY') && (await isDirectory(destination))) {
      await removeQuietly(source);
      return;
    }
    throw asWriteError(error, destination);
  }
}
