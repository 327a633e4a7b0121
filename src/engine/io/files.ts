/**
 * Reading activation files from disk and writing results without leaving half-written files.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors.js';
import type { NdArray, ReadOptions } from './ndarray.js';
import { parseNpy } from './npy.js';
import { npzMemberBytes, parseNpz, type NpzEntry } from './npz.js';
import { splitExampleIds, type WithExampleIds } from './exampleIds.js';

/** Reads a whole file; a missing or unreadable path is an InputError naming it. */
async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a .npy or .npz file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : `cannot read (${code ?? (error as Error).message})`;
    throw new InputError(`${path}: ${reason}`, path);
  }
}

export async function readNpyFile(path: string, options: ReadOptions = {}): Promise<NdArray> {
  return parseNpy(await readInputFile(path), path, options);
}

/** The arrays of an `.npz` file, in archive order. */
export async function readNpzFile(path: string, options: ReadOptions = {}): Promise<NpzEntry[]> {
  return parseNpz(await readInputFile(path), path, options);
}

/**
 * Reads the layers of an activation file: an `.npz` holds one array per layer; an `.npy` is a
 * single layer named after the file's stem (`fc1.npy` → `fc1`). An `.npz` array named `ids`
 * is not a layer: see `readActivationArrays`, which returns it.
 */
export async function readActivationFile(path: string, options: ReadOptions = {}): Promise<NpzEntry[]> {
  return (await readActivationArrays(path, options)).arrays;
}

/**
 * The arrays of an activation (or inputs) file and its example ids, when an `.npz` has an `ids`
 * array (see exampleIds.ts). The format is told by the content's magic bytes, so a misnamed file
 * still reads; unrecognized content is parsed as the extension says, so the error speaks of the
 * format the user meant.
 */
export async function readActivationArrays(path: string, options: ReadOptions = {}): Promise<WithExampleIds<NpzEntry>> {
  const bytes = await readInputFile(path);
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b; // "PK"
  const isNpy = bytes[0] === 0x93 && bytes[1] === 0x4e; // "\x93N"
  const extension = extname(path).toLowerCase();
  if (isZip || (!isNpy && extension === '.npz')) {
    return splitExampleIds(npzMemberBytes(bytes, path), path, (member) => member.bytes(), (member) => ({ name: member.name, array: parseNpy(member.bytes(), member.source, options) }));
  }
  return { arrays: [{ name: basename(path, extname(path)), array: parseNpy(bytes, path, options) }] };
}

/**
 * Writes `contents` to `path` through a temporary file in the same directory that is renamed
 * into place (rename is atomic within a file system), so readers see the old file or the
 * whole new one, never part of it. The temporary file is removed if anything fails.
 */
/**
 * Test-only fault injection: with REPSIM_TEST_FAIL_WRITES=TEXT set, an atomic write of a path
 * containing TEXT fails as on a full disk, after its temporary file has been written.
 */
function failWriteForTests(path: string): void {
  const pattern = process.env.REPSIM_TEST_FAIL_WRITES;
  if (pattern && path.includes(pattern)) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', path });
}

export async function writeFileAtomic(path: string, contents: Uint8Array | string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let created = false;
  try {
    const handle = await open(temporary, 'wx');
    created = true;
    try {
      await handle.writeFile(contents);
      failWriteForTests(path);
      await handle.sync(); // the data must be on disk before the rename makes it visible
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    if (created) await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
