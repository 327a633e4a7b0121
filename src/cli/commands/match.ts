/** `repsim match A.npz B.npz --epsilon E`: Wang et al.'s neuron-activation subspace match. */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { subspaceMatch } from '../../engine/similarity/subspaceMatch.js';
import { assertSameExampleCount, findLayer, layerInMemory, loadActivationFile } from '../../engine/io/activationFiles.js';
import { assertSameExampleIds } from '../../engine/io/exampleIds.js';
import type { LayerActivations } from '../../engine/similarity/layers.js';
import { modelActivations, modelKind, readInputs, type ModelKind } from '../models.js';
import { writeOutputs } from '../output.js';
import { parseNumberOption, UsageError, type CommandContext } from '../options.js';

export const MATCH_USAGE = `repsim match A B --epsilon E [options]
  Maximum epsilon-approximate match between the neurons (channels, last axis) of one layer
  of A and one layer of B, its similarity s(E), and the simple (minimal) matches. A and B
  are activation files, .onnx models or TensorFlow.js model.json files; models run on
  --inputs (an ONNX layer's channels are its axis 1, as PyTorch lays them out).
  --inputs X.npy|X.npz       the examples fed to the models as they are (needed for models)
  --epsilon E                tolerance in [0, 1) (required)
  --layer-a NAME             layer of A (required when A holds several)
  --layer-b NAME             layer of B (required when B holds several)
  --max-rows N               subsample N rows of the activation vectors (seeded)
  --seed S                   seed for subsampling and the simple-match order (default 0)
  --json OUT                 write {a, b, similarity, simpleMatches, ...} as JSON`;

export async function runMatch(argv: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      epsilon: { type: 'string' },
      'layer-a': { type: 'string' },
      'layer-b': { type: 'string' },
      'max-rows': { type: 'string' },
      seed: { type: 'string', default: '0' },
      json: { type: 'string' },
      inputs: { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`match takes two activation files or models, got ${positionals.length}`, undefined, 'match');
  if (values.epsilon === undefined) throw new UsageError('match needs --epsilon E, a tolerance in [0, 1)', 'epsilon', 'match');
  const epsilon = parseNumberOption('--epsilon', values.epsilon, { min: 0 });
  if (!(epsilon < 1)) throw new UsageError(`--epsilon ${values.epsilon}: expected a number in [0, 1)`, 'epsilon', 'match');
  const seed = parseNumberOption('--seed', values.seed!, { integer: true, min: 0 });
  const maxRows = values['max-rows'] === undefined ? undefined : parseNumberOption('--max-rows', values['max-rows'], { integer: true, min: 1 });

  const [pathA, pathB] = positionals;
  const kinds = [await modelKind(pathA), await modelKind(pathB)];
  if (kinds.some((k) => k !== 'activations') && values.inputs === undefined) throw new UsageError('match: models need --inputs X.npy (the examples fed to both)', 'inputs', 'match');
  const backend = await context.backend();
  const inputsFile = values.inputs !== undefined && kinds.some((k) => k !== 'activations') ? await readInputs(values.inputs) : undefined;
  const inputs = inputsFile?.array;
  // The chosen layer, with the example ids of the file its examples come from (a model's are its inputs file's).
  const load = async (path: string, kind: ModelKind, layer: string | undefined, option: string) => {
    if (kind === 'activations') {
      const file = await loadActivationFile(path);
      return { layer: findLayer(path, file.layers, layer, option), ids: file.ids, idsFile: path };
    }
    if (layer === undefined) throw new UsageError(`${option} NAME is needed for the model ${path} (see repsim layers ${path})`, option, 'match');
    const [found] = await modelActivations(path, inputs!, values.inputs!, { selection: layer, batchSize: 256, backend });
    return { layer: kind === 'onnx' ? channelsLast(found) : found, ids: inputsFile?.ids, idsFile: values.inputs! };
  };
  const loadedA = await load(pathA, kinds[0], values['layer-a'], '--layer-a');
  const loadedB = await load(pathB, kinds[1], values['layer-b'], '--layer-b');
  const chosenA = loadedA.layer;
  const chosenB = loadedB.layer;
  assertSameExampleCount(pathA, [chosenA], pathB, [chosenB]);
  if (loadedA.idsFile !== loadedB.idsFile) {
    const idsWarning = assertSameExampleIds(loadedA.ids, loadedB.ids, loadedA.idsFile, loadedB.idsFile);
    if (idsWarning) context.warn(idsWarning);
  }
  // Subspace match needs every activation vector at once: a streamed layer is read whole.
  const layerA = layerInMemory(chosenA, pathA);
  const layerB = layerInMemory(chosenB, pathB);

  context.log(`backend ${backend.name}`);
  const a = tf.tensor(layerA.data, [...layerA.shape]);
  const b = tf.tensor(layerB.data, [...layerB.shape]);
  const names = { a: `${pathA}:${layerA.name}`, b: `${pathB}:${layerB.name}` };
  const result = await subspaceMatch(a, b, { epsilon, seed, maxRows }, names).finally(() => tf.dispose([a, b]));
  for (const warning of result.warnings) context.warn(warning);

  const json = () =>
    `${JSON.stringify(
      {
        a: result.a,
        b: result.b,
        similarity: result.similarity,
        simpleMatches: result.simpleMatches.map((m) => ({ a: m.a, b: m.b, size: m.size })),
        layerA: names.a,
        layerB: names.b,
        epsilon,
        seed,
        neurons: result.neurons,
        rowsUsed: result.rowsUsed,
        rowsTotal: result.rowsTotal,
        backend: backend.name,
        warnings: result.warnings,
      },
      null,
      1,
    )}\n`;
  await writeOutputs([{ path: values.json, contents: json }]);
  if (values.json === undefined) {
    context.print(`s(${epsilon}) = ${result.similarity.toFixed(4)}: ${result.a.length}/${result.neurons.a} neurons of ${names.a} and ${result.b.length}/${result.neurons.b} of ${names.b} in the maximum match`);
    context.print(`simple matches: ${result.simpleMatches.length} distinct; sizes ${result.simpleMatches.map((m) => m.size).join(', ') || '—'}`);
  }
}

/** An ONNX layer's [n, C, ...] activations as [n, ..., C] (channels last, as subspace match reads neurons). */
export function channelsLast(layer: LayerActivations): LayerActivations {
  if (layer.shape.length < 3) return layer;
  const [n, c, ...rest] = layer.shape;
  const plane = rest.reduce((a, b) => a * b, 1);
  const out = new Float32Array(layer.data.length);
  for (let e = 0; e < n; e++) {
    const base = e * c * plane;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) out[base + p * c + ch] = layer.data[base + ch * plane + p];
  }
  return { name: layer.name, shape: [n, ...rest, c], data: out };
}
