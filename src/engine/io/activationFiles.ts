/** Loads activation files as layers: every layer validated, named `file:layer` in errors. */
import { readActivationFile } from './files.js';
import { assertAllFinite } from './ndarray.js';
import { InputError } from '../errors.js';
import type { LayerActivations } from '../similarity/layers.js';

export async function loadActivations(path: string): Promise<LayerActivations[]> {
  const entries = await readActivationFile(path);
  if (entries.length === 0) throw new InputError(`${path}: holds no arrays`, path);
  return entries.map(({ name, array }) => {
    const source = `${path}:${name}`;
    if (array.shape.length < 2) {
      throw new InputError(`${source}: shape (${array.shape.join(', ')}) has no feature axis; expected [examples, ...features]`, source);
    }
    if (array.shape.slice(1).some((extent) => extent === 0)) {
      throw new InputError(`${source}: shape (${array.shape.join(', ')}) has no features`, source);
    }
    assertAllFinite(array, source);
    return { name, shape: array.shape, data: array.data instanceof Float32Array ? array.data : Float32Array.from(array.data) };
  });
}

/** Both files must describe the same examples; the error names both files and layers. */
export function assertSameExampleCount(pathA: string, layersA: readonly LayerActivations[], pathB: string, layersB: readonly LayerActivations[]): void {
  const all = [...layersA.map((l) => ({ path: pathA, l })), ...layersB.map((l) => ({ path: pathB, l }))];
  const first = all[0];
  for (const { path, l } of all) {
    if (l.shape[0] !== first.l.shape[0]) {
      throw new InputError(
        `${path}:${l.name} has ${l.shape[0]} examples but ${first.path}:${first.l.name} has ${first.l.shape[0]}: both files must hold the same examples in the same order`,
        `${path}:${l.name}`,
      );
    }
  }
}

export function findLayer(path: string, layers: readonly LayerActivations[], name: string | undefined, option: string): LayerActivations {
  if (name === undefined) {
    if (layers.length === 1) return layers[0];
    throw new InputError(`${path} holds ${layers.length} layers (${layers.map((l) => l.name).join(', ')}): choose one with ${option}`, path);
  }
  const layer = layers.find((l) => l.name === name);
  if (!layer) throw new InputError(`${path}: no layer named '${name}' (it has: ${layers.map((l) => l.name).join(', ')})`, `${path}:${name}`);
  return layer;
}
