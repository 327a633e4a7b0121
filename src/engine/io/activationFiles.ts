/**
 * Loads activation files as layers: every layer validated, named `file:layer` in errors, with
 * the file's example ids when it has an `ids` array (exampleIds.ts). A file larger than
 * `inMemoryLimit` is not read whole: its layers read their rows from the file batch by batch
 * (see `streamedActivations.ts`).
 */
import { stat } from 'node:fs/promises';
import { checkExampleIdCount, type WithExampleIds } from './exampleIds.js';
import { readActivationArrays } from './files.js';
import { assertAllFinite } from './ndarray.js';
import { openLargeActivationFile } from './streamedActivations.js';
import { InputError } from '../errors.js';
import type { LayerActivations } from '../similarity/layers.js';

export interface LoadActivationsOptions {
  /** Files up to this many bytes are read whole; larger ones stream their rows per batch (default 1 GiB). */
  readonly inMemoryLimit?: number;
}

export const DEFAULT_IN_MEMORY_LIMIT = 1024 ** 3;

/** The layers of an activation file (an `ids` array is not one). */
export async function loadActivations(path: string, options: LoadActivationsOptions = {}): Promise<LayerActivations[]> {
  return (await loadActivationFile(path, options)).layers;
}

/** An activation file's layers and, when it has an `ids` array, its example ids (checked: one per example). */
export interface ActivationFile {
  readonly layers: LayerActivations[];
  readonly ids?: readonly string[];
}

export async function loadActivationFile(path: string, options: LoadActivationsOptions = {}): Promise<ActivationFile> {
  const limit = options.inMemoryLimit ?? DEFAULT_IN_MEMORY_LIMIT;
  const bytes = await stat(path).then(
    (s) => (s.isFile() ? s.size : 0),
    () => 0, // missing or unreadable: the whole-file reader names the reason
  );
  const { arrays, ids } = bytes > limit ? loadStreamed(path, limit) : await loadInMemory(path);
  if (arrays.length === 0) throw new InputError(`${path}: holds ${ids ? 'only example ids, no layers' : 'no arrays'}`, path);
  checkExampleIdCount(ids, path, arrays);
  return ids === undefined ? { layers: arrays } : { layers: arrays, ids };
}

async function loadInMemory(path: string): Promise<WithExampleIds<LayerActivations>> {
  const { arrays, ids } = await readActivationArrays(path);
  const layers = arrays.map(({ name, array }): LayerActivations => {
    const source = `${path}:${name}`;
    checkLayerShape(array.shape, source);
    assertAllFinite(array, source);
    return { name, shape: array.shape, data: array.data instanceof Float32Array ? array.data : Float32Array.from(array.data) };
  });
  return { arrays: layers, ids };
}

function loadStreamed(path: string, limit: number): WithExampleIds<LayerActivations> {
  const { arrays, ids } = openLargeActivationFile(path, { wholeMemberLimit: limit });
  const layers = arrays.map((array): LayerActivations => {
    const source = `${path}:${array.name}`;
    checkLayerShape(array.shape, source);
    if ('data' in array) {
      assertAllFinite({ dtype: array.dtype as never, shape: array.shape, data: array.data }, source);
      return { name: array.name, shape: array.shape, data: array.data };
    }
    return {
      name: array.name,
      shape: array.shape,
      get data(): Float32Array {
        throw new Error(`${source} is read from its file batch by batch (the file is too large to hold in memory); read its rows with readRows`);
      },
      readRows: (examples) => array.readRows(examples),
    };
  });
  return { arrays: layers, ids };
}

function checkLayerShape(shape: readonly number[], source: string): void {
  if (shape.length < 2) {
    throw new InputError(`${source}: shape (${shape.join(', ')}) has no feature axis; expected [examples, ...features]`, source);
  }
  if (shape.slice(1).some((extent) => extent === 0)) {
    throw new InputError(`${source}: shape (${shape.join(', ')}) has no features`, source);
  }
}

/** Every row of a layer in memory (a streamed layer is read whole; InputError when it cannot be held). */
export function layerInMemory(layer: LayerActivations, path: string): LayerActivations {
  if (!layer.readRows) return layer;
  try {
    return { name: layer.name, shape: layer.shape, data: layer.readRows({ start: 0, end: layer.shape[0] }) };
  } catch (error) {
    if (error instanceof RangeError) throw new InputError(`${path}:${layer.name}: too large to hold in memory (${error.message})`, `${path}:${layer.name}`);
    throw error;
  }
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
