/** Formatting results for files and the terminal. */
import { InputError } from '../engine/errors.js';
import { writeFileAtomic } from '../engine/io/files.js';
export { matrixToCsv } from '../engine/io/csv.js';

import type { Matrix } from '../engine/io/csv.js';

/** A fixed-width table for the terminal, truncating long layer names. */
export function matrixToTable(layersA: readonly string[], layersB: readonly string[], matrix: Matrix, digits = 3): string {
  const clip = (name: string, width: number) => (name.length > width ? `…${name.slice(name.length - width + 1)}` : name);
  const rowLabelWidth = Math.min(28, Math.max(5, ...layersA.map((n) => n.length)));
  const columnWidth = Math.max(digits + 3, Math.min(12, Math.max(...layersB.map((n) => n.length))));
  const header = ' '.repeat(rowLabelWidth) + layersB.map((n) => ` ${clip(n, columnWidth).padStart(columnWidth)}`).join('');
  const rows = layersA.map(
    (name, i) => clip(name, rowLabelWidth).padEnd(rowLabelWidth) + matrix[i].map((v) => ` ${(v === null ? '—' : v.toFixed(digits)).padStart(columnWidth)}`).join(''),
  );
  return [header, ...rows].join('\n');
}

/** Writes every output only after all of them are ready, each atomically. */
export async function writeOutputs(outputs: readonly { path: string | undefined; contents: () => string | Uint8Array | Promise<string | Uint8Array> }[]): Promise<void> {
  const wanted = outputs.filter((o) => o.path !== undefined);
  const ready = await Promise.all(wanted.map(async (o) => ({ path: o.path!, text: await o.contents() })));
  for (const { path, text } of ready) {
    await writeFileAtomic(path, text).catch((error: NodeJS.ErrnoException) => {
      // A folder that is not there or is a file, a full disk, no permission: say which file, in one line.
      const why: Record<string, string> = { ENOENT: 'its folder does not exist', ENOTDIR: 'part of its path is a file, not a folder', EISDIR: 'it is a folder', ENOSPC: 'the disk is full', EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'the file system is read-only' };
      throw new InputError(`${path}: cannot write (${(error.code && why[error.code]) ?? error.message})`, path);
    });
  }
}
