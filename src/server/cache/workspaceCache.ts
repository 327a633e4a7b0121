/**
 * The cache under the workspace (`.repsim/`, git-ignored by a `.gitignore` inside it): trained
 * models keyed by a hash of everything that determines their weights, and the running state of
 * comparisons so that a killed server loses at most the batch in flight.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/files.js';

/** A stable key for a JSON-able value: keys sorted, so property order does not matter. */
export function hashKey(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 20);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const GITIGNORE = '.gitignore';
/** What RepSim keeps in its cache folder (see `modelDirectory`, `comparisonStatePath`). */
const CACHE_ENTRIES = new Set(['models', 'comparisons']);

export class WorkspaceCache {
  constructor(readonly root: string) {}

  /**
   * Creates the cache folder, and a `.gitignore` (`*`) in it when the folder is RepSim's own: new,
   * empty, or holding only what RepSim puts there. A folder the user named that holds other things
   * (`--cache-dir`, `repsim.cacheDirectory`) gets no `.gitignore` that would hide them from git, and
   * an existing `.gitignore` is never overwritten: RepSim writes only files it creates.
   */
  async ensure(): Promise<void> {
    const created = await mkdir(this.root, { recursive: true });
    const entries = created === undefined ? await readdir(this.root) : [];
    if (entries.includes(GITIGNORE) || !entries.every((entry) => CACHE_ENTRIES.has(entry))) return;
    await writeFile(join(this.root, GITIGNORE), '# RepSim cache: trained models and partial results\n*\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error; // created meanwhile: not ours to replace
    });
  }

  modelDirectory(key: string): string {
    return join(this.root, 'models', key);
  }

  comparisonStatePath(key: string): string {
    return join(this.root, 'comparisons', `${key}.json`);
  }

  async readJson<T>(path: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (error instanceof SyntaxError) return undefined; // a damaged cache entry is recomputed
      throw error;
    }
  }

  async writeJson(path: string, value: unknown): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFileAtomic(path, JSON.stringify(value));
  }

  async remove(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }
}
