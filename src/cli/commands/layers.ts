/** `repsim layers MODEL`: the layers a comparison can use, with op type and shape. */
import { parseArgs } from 'node:util';
import { layerOutputs } from '../../engine/activations/layerStream.js';
import { formatLayerCandidates, layerCandidates, loadOnnxModel, parseOnnxLayerSelection, selectOnnxLayers } from '../../engine/onnx/import/index.js';
import { loadLayersModelFromPath } from '../../engine/train/index.js';
import { modelKind, onnxRuntimeOrFail, readInputsArray } from '../models.js';
import { UsageError, type CommandContext } from '../options.js';

export const LAYERS_USAGE = `repsim layers MODEL [options]
  Lists the layers of an .onnx model (name, op type, shape per example) or of a
  TensorFlow.js model.json (name, class), in forward order.
  --inputs X.npy|X.npz       probe with these inputs' example shape (for a model whose input
                             has dynamic sizes past the batch axis)
  --layers SEL               list only these: blocks, all (default), op:Relu,Add, a pattern`;

export async function runLayers(argv: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { inputs: { type: 'string' }, layers: { type: 'string', default: 'all' } } });
  if (positionals.length !== 1) throw new UsageError(`layers takes one model, got ${positionals.length}`, undefined, 'layers');
  const [path] = positionals;
  const kind = await modelKind(path);
  if (kind === 'activations') throw new UsageError(`${path}: layers takes a model (.onnx or model.json)`, path, 'layers');
  const backend = await context.backend();
  if (kind === 'onnx') {
    const runtime = onnxRuntimeOrFail(backend, path);
    const file = await loadOnnxModel(path);
    const exampleShape = values.inputs === undefined ? undefined : (await readInputsArray(values.inputs)).shape.slice(1);
    const candidates = selectOnnxLayers(path, await layerCandidates(runtime, file, { exampleShape }), parseOnnxLayerSelection(values.layers!));
    for (const line of formatLayerCandidates(candidates)) context.print(line);
    return;
  }
  const model = await loadLayersModelFromPath(path);
  const outputs = layerOutputs(model);
  const width = Math.max(4, ...outputs.map((o) => o.name.length));
  for (const o of outputs) context.print(`${o.name.padEnd(width)}  ${o.className}${o.isModelOutput ? '  (model output)' : ''}`);
}
