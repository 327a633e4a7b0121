/**
 * The directory of RepSim's package.json, for files shipped beside the code (the embedded
 * dataset). Found by walking up from this module, which works both from `src/` (tsx) and from
 * the esbuild bundle in `dist/`.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'repsim';
let cached: string | undefined;

export function findPackageRoot(start: string = __dirname): string {
  if (start === __dirname && cached !== undefined) return cached;
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (manifest.name === PACKAGE_NAME) {
        if (start === __dirname) cached = dir;
        return dir;
      }
    } catch {
      // no package.json here, or not readable: keep walking up
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${start}`);
  }
}

/** A bundled entry point in dist/ (the server, the gram worker); built by `npm run build`. */
export function bundledScript(fileName: string): string {
  const path = join(findPackageRoot(), 'dist', fileName);
  try {
    statSync(path);
  } catch {
    throw new Error(`${path} is missing: run 'npm run build'`);
  }
  return path;
}
