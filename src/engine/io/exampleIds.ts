/**
 * Optional per-example ids: an array named `ids` in an activation archive (beside its layers) or
 * in an inputs archive (beside the inputs), integers or strings, one per example. It is not a
 * layer. When both files of a comparison have ids they must be equal row by row, so that a
 * shuffled or differently filtered export is an error rather than a wrong CKA.
 */
import { InputError } from '../errors.js';
import { parseExampleIdsNpy } from './exampleIdsNpy.js';

/** The name of the ids array in an `.npz` (`np.savez(path, ids=ids, ...)`). */
export const EXAMPLE_IDS_ARRAY = 'ids';

export interface WithExampleIds<T> {
  /** The file's example ids, when it has an `ids` array. */
  readonly ids?: readonly string[];
  /** Every other array, in archive order. */
  readonly arrays: T[];
}

/**
 * Separates an archive's `ids` array from its other arrays: the ids are decoded as strings from
 * the member's `.npy` bytes (`idsBytes`), every other member is read by `readArray`.
 */
export function splitExampleIds<M extends { readonly name: string }, T>(
  members: readonly M[],
  path: string,
  idsBytes: (member: M) => Uint8Array,
  readArray: (member: M) => T,
): WithExampleIds<T> {
  let ids: string[] | undefined;
  const arrays: T[] = [];
  for (const member of members) {
    if (member.name === EXAMPLE_IDS_ARRAY) ids = parseExampleIdsNpy(idsBytes(member), `${path}:${EXAMPLE_IDS_ARRAY}`);
    else arrays.push(readArray(member));
  }
  return ids === undefined ? { arrays } : { ids, arrays };
}

/** The ids must be one per example: every array's first axis. The error names the file. */
export function checkExampleIdCount(ids: readonly string[] | undefined, path: string, arrays: readonly { readonly name: string; readonly shape: readonly number[] }[]): void {
  if (ids === undefined) return;
  for (const { name, shape } of arrays) {
    if (shape[0] !== ids.length) {
      throw new InputError(
        `${path}:${EXAMPLE_IDS_ARRAY} holds ${ids.length} example ids but ${path}:${name} has ${shape[0] ?? 0} examples (first axis): the ids must be one per example`,
        `${path}:${EXAMPLE_IDS_ARRAY}`,
      );
    }
  }
}

/**
 * Both files describe the same examples in the same order when both have ids: InputError naming
 * the first row (counted from 0) that differs, both ids and both files. Ids in one file only
 * cannot be checked: the warning to log is returned. Nothing is returned when neither has ids.
 */
export function assertSameExampleIds(idsA: readonly string[] | undefined, idsB: readonly string[] | undefined, pathA: string, pathB: string): string | undefined {
  if (idsA === undefined && idsB === undefined) return undefined;
  if (idsA === undefined || idsB === undefined) {
    const [withIds, without] = idsA === undefined ? [pathB, pathA] : [pathA, pathB];
    return `${withIds} has example ids but ${without} has none: the rows are taken to be the same examples in the same order, unchecked`;
  }
  const files = `${pathA} and ${pathB}`;
  if (idsA.length !== idsB.length) {
    throw new InputError(`${files}: ${idsA.length} example ids in ${pathA}, ${idsB.length} in ${pathB} (the rows must be the same examples in the same order)`, pathB);
  }
  for (let row = 0; row < idsA.length; row++) {
    if (idsA[row] !== idsB[row]) {
      throw new InputError(
        `${files}: example ids differ at row ${row}: ${quoteId(idsA[row])} in ${pathA}, ${quoteId(idsB[row])} in ${pathB} (the rows must be the same examples in the same order)`,
        pathB,
      );
    }
  }
  return undefined;
}

/** An id fit for a one-line message: quoted, control characters escaped, long ids cut. */
function quoteId(id: string): string {
  const short = id.length > 60 ? `${id.slice(0, 57)}...` : id;
  return `'${short.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}
