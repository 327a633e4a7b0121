import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpz } from '../../src/engine/io/npz.js';
import type { LayerActivations } from '../../src/engine/similarity/layers.js';

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** The layers of an .npz fixture as float32 activations, in archive order. */
export function loadLayers(relativePath: string): LayerActivations[] {
  const path = join(FIXTURES, relativePath);
  return parseNpz(readFileSync(path), path).map(({ name, array }) => ({
    name,
    shape: array.shape,
    data: Float32Array.from(array.data),
  }));
}

export function loadJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, relativePath), 'utf8')) as T;
}

/** Asserts every entry of two equally shaped matrices agrees within `tolerance`. */
export function assertMatrixClose(actual: (number | null)[][], expected: number[][], tolerance: number, label: string): void {
  if (actual.length !== expected.length) throw new Error(`${label}: ${actual.length} rows, expected ${expected.length}`);
  actual.forEach((row, i) =>
    row.forEach((value, j) => {
      const want = expected[i][j];
      if (value === null || !(Math.abs(value - want) <= tolerance)) {
        throw new Error(`${label}[${i}][${j}] = ${value}, expected ${want} ± ${tolerance}`);
      }
    }),
  );
}
