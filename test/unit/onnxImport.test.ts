/**
 * ONNX models read from files (src/engine/onnx/import): readable layer names, the candidate
 * layers and selections, activations equal to PyTorch's module outputs within 1e-4, the CKA
 * matrix equal to a float64 NumPy CKA of PyTorch's outputs within 1e-4, opsets 11–18, external
 * data, the dataset adapter, and a clear error naming the file for every kind of bad input.
 * Fixtures: test/fixtures/onnx/make_fixtures.py.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import type { EvaluationData } from '../../src/engine/activations/evaluationData.js';
import { InputError } from '../../src/engine/errors.js';
import type { NdArray } from '../../src/engine/io/ndarray.js';
import { parseNpy } from '../../src/engine/io/npy.js';
import { decodeModel, encodeModel, GraphBuilder } from '../../src/engine/onnx/graph.js';
import {
  blockLayers,
  checkImageInput,
  checkOnnxInputs,
  extractActivations,
  formatLayerCandidates,
  layerCandidates,
  loadOnnxModel,
  onnxImageTransform,
  onnxInputsEvaluation,
  OnnxModelRunner,
  parseOnnxLayerSelection,
  readableLayerNames,
  selectOnnxLayers,
  type OnnxLayerCandidate,
  type OnnxModelFile,
} from '../../src/engine/onnx/import/index.js';
import type { OnnxRuntime } from '../../src/engine/onnx/runtime.js';
import { OnnxGramEngine } from '../../src/engine/onnx/similarity/onnxGramEngine.js';
import { ckaMatrix, LINEAR, MinibatchCkaAccumulator } from '../../src/engine/similarity/index.js';
import { testBackend } from '../helpers/backend.js';
import { testOnnxRuntime } from '../helpers/engines.js';
import { assertMatrixClose, FIXTURES, loadJson, loadLayers } from '../helpers/fixtures.js';

const DIR = join(FIXTURES, 'onnx');
const fixture = (name: string) => join(DIR, name);

interface Reference {
  readonly examples: number;
  readonly savedExamples: number;
  readonly layers: string[];
  readonly minibatch: { readonly batchSize: number; readonly matrix: number[][] };
  readonly biased: { readonly matrix: number[][] };
}

const RESNET_NAMES = [
  'stem.conv', 'stem.relu',
  'blocks.0.conv1', 'blocks.0.relu1', 'blocks.0.conv2', 'blocks.0.add', 'blocks.0.relu2',
  'blocks.1.conv1', 'blocks.1.relu1', 'blocks.1.conv2', 'blocks.1.shortcut.0', 'blocks.1.add', 'blocks.1.relu2',
  'pool', 'flatten', 'fc',
];
const CNN_NAMES = ['features.0', 'features.1', 'features.2', 'features.3', 'features.4', 'features.5', 'flatten', 'classifier'];

function readInputs(): NdArray {
  return parseNpy(readFileSync(fixture('x.npy')), fixture('x.npy'));
}

/** The first `count` rows of an array. */
function firstRows(array: NdArray, count: number): NdArray {
  const size = array.shape.slice(1).reduce((a, b) => a * b, 1);
  return { ...array, shape: [count, ...array.shape.slice(1)], data: array.data.slice(0, count * size) };
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** An InputError whose message names `path` and matches `pattern`. */
async function rejectsNaming(run: () => Promise<unknown> | unknown, path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(
    async () => run(),
    (error: unknown) => {
      assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
      assert.ok(error.message.includes(path), `the message should name ${path}: ${error.message}`);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
      return true;
    },
  );
}

/** Minibatch CKA between two runners' layers over `data` (consecutive batches, one pass), as compareModels accumulates it. */
async function runnerCka(runtime: OnnxRuntime, a: OnnxModelRunner, b: OnnxModelRunner, data: EvaluationData, batchSize: number): Promise<(number | null)[][]> {
  const engine = new OnnxGramEngine(runtime);
  const accumulator = new MinibatchCkaAccumulator(a.layerNames, b.layerNames);
  for (let start = 0; start + batchSize <= data.count; start += batchSize) {
    const inputs = data.inputs({ start, end: start + batchSize });
    const resultA = await a.run(inputs, batchSize, data.exampleShape);
    const resultB = await b.run(inputs, batchSize, data.exampleShape);
    accumulator.add(await engine.batchHsic(resultA.grams, resultB.grams, batchSize, 'unbiased'));
  }
  return accumulator.result().matrix;
}

describe('ONNX layer names', () => {
  const named = (nodes: [string, string][]) => readableLayerNames(nodes.map(([node, opType], k) => ({ node, opType, value: `v${k}`, outputIndex: 0 })));

  test("PyTorch scopes: '/blocks/blocks.0/relu2/Relu' is 'blocks.0.relu2'; a parent's own ops get the op; top-level ops their op", () => {
    assert.deepEqual(
      named([
        ['/stem/conv/Conv', 'Conv'],
        ['/blocks/blocks.0/conv1/Conv', 'Conv'],
        ['/blocks/blocks.0/Add', 'Add'],
        ['/blocks/blocks.0/relu2/Relu', 'Relu'],
        ['/blocks/blocks.1/shortcut/shortcut.0/Conv', 'Conv'],
        ['/Flatten', 'Flatten'],
        ['/fc/MatMul', 'MatMul'],
        ['/fc/Add', 'Add'],
      ]),
      ['stem.conv', 'blocks.0.conv1', 'blocks.0.add', 'blocks.0.relu2', 'blocks.1.shortcut.0', 'flatten', 'fc.matmul', 'fc'],
    );
  });

  test('a module applied twice, unnamed nodes, old-style names, a shared prefix, extra outputs, duplicates', () => {
    assert.deepEqual(named([['/layer1/layer1.0/relu/Relu', 'Relu'], ['/layer1/layer1.0/relu_1/Relu', 'Relu'], ['/Flatten', 'Flatten']]), ['layer1.0.relu', 'layer1.0.relu_1', 'flatten']);
    assert.deepEqual(named([['Conv_0', 'Conv'], ['Relu_1', 'Relu']]), ['conv_0', 'relu_1']);
    assert.deepEqual(
      named([['StatefulPartitionedCall/model/conv2d/Conv2D', 'Conv'], ['StatefulPartitionedCall/model/dense/MatMul', 'MatMul']]),
      ['conv2d', 'dense'],
    );
    assert.deepEqual(
      readableLayerNames([
        { node: '', opType: 'Relu', value: 'hidden', outputIndex: 0 },
        { node: '/split/Split', opType: 'Split', value: 's0', outputIndex: 0 },
        { node: '/split/Split', opType: 'Split', value: 's1', outputIndex: 1 },
        { node: 'x', opType: 'Relu', value: 'a', outputIndex: 0 },
        { node: 'x', opType: 'Relu', value: 'b', outputIndex: 0 },
      ]),
      ['hidden', 'split', 'split:1', 'x', 'x#2'],
    );
  });
});

describe('ONNX models from PyTorch', () => {
  let runtime: OnnxRuntime;
  let a: OnnxModelFile;
  let b: OnnxModelFile;
  let cnn: OnnxModelFile;
  let x: NdArray;
  let reference: Reference;
  let temporary: string;

  before(async () => {
    await testBackend();
    runtime = await testOnnxRuntime();
    [a, b, cnn] = await Promise.all(['a.onnx', 'b.onnx', 'cnn.onnx'].map((f) => loadOnnxModel(fixture(f))));
    x = readInputs();
    reference = loadJson<Reference>('onnx/reference.json');
    temporary = mkdtempSync(join(tmpdir(), 'repsim-onnx-'));
  });
  after(() => rmSync(temporary, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(temporary, name);
    writeFileSync(path, bytes);
    return path;
  };
  const pick = (candidates: readonly OnnxLayerCandidate[], names: readonly string[]) =>
    names.map((name) => candidates.find((c) => c.name === name) ?? assert.fail(`no candidate '${name}' among ${candidates.map((c) => c.name).join(', ')}`));

  test('the input: name, element type, dims with a dynamic batch axis', () => {
    assert.deepEqual(a.input, { name: 'input', elementType: 'float32', dims: ['batch', 3, 16, 16] });
    assert.equal(a.opset, 17);
    assert.equal(cnn.opset, 11);
    assert.match(a.producer, /^pytorch/);
  });

  test('candidates: every float node output with a batch axis, named readably, in forward order, with shapes', async () => {
    const candidates = await layerCandidates(runtime, a);
    assert.deepEqual(candidates.map((c) => c.name), RESNET_NAMES);
    assert.deepEqual(candidates.map((c) => c.index), RESNET_NAMES.map((_, k) => k));
    const byName = new Map(candidates.map((c) => [c.name, c]));
    assert.equal(byName.get('blocks.0.relu2')!.value, '/blocks/blocks.0/relu2/Relu_output_0');
    assert.deepEqual(byName.get('blocks.1.add')!.exampleShape, [16, 8, 8]);
    assert.deepEqual(byName.get('pool')!.exampleShape, [16, 1, 1]);
    assert.equal(byName.get('fc')!.isOutput, true);
    assert.equal(byName.get('blocks.0.add')!.opType, 'Add');
    assert.deepEqual((await layerCandidates(runtime, cnn)).map((c) => c.name), CNN_NAMES);
    const lines = formatLayerCandidates(candidates);
    assert.match(lines[6], /^blocks\.0\.relu2\s+Relu\s+\[n, 8, 16, 16\]$/);
    assert.match(lines.at(-1)!, /^fc\s+Gemm\s+\[n, 10\]\s+\(model output\)$/);
  });

  test('shape arithmetic and constants are no candidates', async () => {
    // x.view(x.size(0), -1) exports as Shape → Gather → Unsqueeze → Concat → Reshape: only the Reshape is a layer.
    const g = new GraphBuilder('flatten_by_shape');
    const input = g.input('x', 'float32', ['batch', 2, 3]);
    const relu = g.op('Relu', [input], {}, { name: '/act/Relu' });
    const batch = g.op('Gather', [g.op('Shape', [relu], {}, { name: '/Shape' }), g.constant('int64', [], [0])], { axis: 0 }, { name: '/Gather' });
    const shape = g.op('Concat', [g.op('Unsqueeze', [batch, g.int64s([0])], {}, { name: '/Unsqueeze' }), g.int64s([-1])], { axis: 0 }, { name: '/Concat' });
    const flat = g.op('Reshape', [relu, shape], {}, { name: '/Reshape' });
    const constant = g.op('ConstantOfShape', [g.int64s([4])], { value: { kind: 'tensor', value: { dims: [1], dataType: 1, floatData: [1] } } }, { name: '/ConstantOfShape' });
    g.output(g.op('Add', [flat, g.op('ReduceSum', [constant], { keepdims: 0 }, { name: '/ReduceSum' })], {}, { name: '/out/Add' }), 'float32', ['batch', 6]);
    const file = await loadOnnxModel(write('shape_arithmetic.onnx', g.encode()));
    const candidates = await layerCandidates(runtime, file);
    assert.deepEqual(candidates.map((c) => `${c.name}:${c.opType}`), ['act:Relu', 'reshape:Reshape', 'out:Add']);
  });

  test("selections: all, blocks (residual: block outputs, stem, pool; plain: nonlinearities and pools), op:, glob and /regex/", async () => {
    const candidates = await layerCandidates(runtime, a);
    const names = (text: string, from = candidates, source = a.path) => selectOnnxLayers(source, from, parseOnnxLayerSelection(text)).map((c) => c.name);
    assert.deepEqual(names('all'), RESNET_NAMES);
    assert.deepEqual(names('blocks'), ['stem.relu', 'blocks.0.relu2', 'blocks.1.relu2', 'pool']);
    assert.deepEqual(names('blocks', await layerCandidates(runtime, cnn), cnn.path), ['features.1', 'features.2', 'features.4', 'features.5']);
    assert.deepEqual(names('op:relu, ADD'), ['stem.relu', 'blocks.0.relu1', 'blocks.0.add', 'blocks.0.relu2', 'blocks.1.relu1', 'blocks.1.add', 'blocks.1.relu2']);
    assert.deepEqual(names('blocks.*.relu?'), ['blocks.0.relu1', 'blocks.0.relu2', 'blocks.1.relu1', 'blocks.1.relu2']);
    assert.deepEqual(names('/^blocks\\.1\\..*(add|shortcut)/'), ['blocks.1.shortcut.0', 'blocks.1.add']);
    assert.deepEqual(blockLayers(candidates.filter((c) => c.opType === 'Conv')), []);
  });

  test('a layer selection that selects nothing is an error naming the file and a few layers', async () => {
    const candidates = await layerCandidates(runtime, a);
    await rejectsNaming(() => selectOnnxLayers(a.path, candidates, parseOnnxLayerSelection('encoder.*')), a.path, /layer pattern 'encoder\.\*' matches none of the 16 layers \(they are named like stem\.conv \(Conv\), stem\.relu \(Relu\)/);
    await rejectsNaming(() => selectOnnxLayers(a.path, candidates, parseOnnxLayerSelection('op:Softmax')), a.path, /'op:Softmax' matches none of the 16 layers; their op types are Conv, Relu, Add, GlobalAveragePool, Flatten, Gemm/);
    await rejectsNaming(() => selectOnnxLayers(a.path, candidates.filter((c) => c.opType === 'Conv'), 'blocks'), a.path, /'blocks' finds no residual additions/);
    assert.throws(() => parseOnnxLayerSelection('op:'), /name op types after 'op:'/);
  });

  test("activations equal PyTorch's module outputs within 1e-4 (batch norm folded: the layers after it)", async () => {
    for (const [file, npz] of [[a, 'a_torch.npz'], [b, 'b_torch.npz'], [cnn, 'cnn_torch.npz']] as const) {
      const torch = loadLayers(`onnx/${npz}`);
      const layers = pick(await layerCandidates(runtime, file), torch.map((t) => t.name));
      const data = onnxInputsEvaluation(firstRows(x, reference.savedExamples), fixture('x.npy'), [file]);
      const ours = await extractActivations(runtime, file, layers, data, { batchSize: 5 });
      ours.forEach((layer, k) => {
        assert.equal(layer.name, torch[k].name);
        assert.deepEqual(layer.shape, torch[k].shape, layer.name);
        const difference = maxAbsDifference(layer.data, torch[k].data);
        assert.ok(difference <= 1e-4, `${file.path} ${layer.name}: max |RepSim − PyTorch| = ${difference}`);
      });
    }
  });

  test('the CKA matrix equals a float64 NumPy CKA of PyTorch’s outputs within 1e-4: minibatch (fused grams) and biased (extracted)', async () => {
    const data = onnxInputsEvaluation(x, fixture('x.npy'), [a, b]);
    const layersA = pick(await layerCandidates(runtime, a), reference.layers);
    const layersB = pick(await layerCandidates(runtime, b), reference.layers);
    const spec = { kernel: LINEAR, linear: false };
    const runnerA = new OnnxModelRunner(runtime, a, layersA, spec);
    const runnerB = new OnnxModelRunner(runtime, b, layersB, spec);
    try {
      const matrix = await runnerCka(runtime, runnerA, runnerB, data, reference.minibatch.batchSize);
      assertMatrixClose(matrix, reference.minibatch.matrix, 1e-4, 'minibatch CKA');
    } finally {
      await Promise.all([runnerA.dispose(), runnerB.dispose()]);
    }
    const extractedA = await extractActivations(runtime, a, layersA, data);
    const extractedB = await extractActivations(runtime, b, layersB, data);
    const biased = await ckaMatrix(extractedA, extractedB, { kernel: LINEAR, estimator: 'biased', engine: new OnnxGramEngine(runtime) });
    assertMatrixClose(biased.matrix, reference.biased.matrix, 1e-4, 'biased CKA');
  });

  test("the runner's predictions are the argmax of the model's output; its grams equal the extracted activations' grams", async () => {
    const data = onnxInputsEvaluation(firstRows(x, 16), fixture('x.npy'), [a]);
    const candidates = await layerCandidates(runtime, a);
    const runner = new OnnxModelRunner(runtime, a, pick(candidates, ['blocks.0.relu2', 'pool']), { kernel: LINEAR, linear: true });
    try {
      assert.equal(await runner.hasPredictions(), true);
      const result = await runner.run(data.inputs({ start: 0, end: 16 }), 16, data.exampleShape);
      const [logits] = await extractActivations(runtime, a, pick(candidates, ['fc']), data);
      const argmax = Array.from({ length: 16 }, (_, i) => {
        const row = Array.from(logits.data.subarray(i * 10, (i + 1) * 10));
        return row.indexOf(Math.max(...row));
      });
      assert.deepEqual(Array.from(result.predictions!), argmax);
      assert.equal(result.grams.length, 2);
      assert.equal(result.linear!.length, 2);
      assert.equal(result.grams[0].gram.length, 16 * 16);
    } finally {
      await runner.dispose();
    }
  });

  test('opsets 11 (axes as attributes) and 18 (axes as inputs): fused grams agree with grams of the extracted activations', async () => {
    const opset18 = decodeModel(readFileSync(a.path));
    opset18.opsetImport = [{ domain: '', version: 18 }];
    const a18 = await loadOnnxModel(write('a_opset18.onnx', encodeModel(opset18)));
    for (const file of [cnn, a18]) {
      const layers = selectOnnxLayers(file.path, await layerCandidates(runtime, file), 'all');
      const data = onnxInputsEvaluation(x, fixture('x.npy'), [file]);
      const runner = new OnnxModelRunner(runtime, file, layers, { kernel: LINEAR, linear: false });
      let fused: (number | null)[][];
      try {
        fused = await runnerCka(runtime, runner, runner, data, 32);
      } finally {
        await runner.dispose();
      }
      const extracted = await extractActivations(runtime, file, layers, data);
      const direct = await ckaMatrix(extracted, extracted, { kernel: LINEAR, estimator: 'minibatch', batchSize: 32, engine: new OnnxGramEngine(runtime) });
      assertMatrixClose(fused, direct.matrix as number[][], 1e-5, `${file.path} opset ${file.opset}`);
    }
  });

  test('a model with its weights in an external data file runs; a missing data file is an error naming both', async () => {
    const model = decodeModel(readFileSync(a.path));
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const tensor of model.graph!.initializer!) {
      const raw = tensor.rawData!;
      chunks.push(raw);
      tensor.externalData = [
        { key: 'location', value: 'a_weights.bin' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      tensor.rawData = new Uint8Array(0);
      offset += raw.length;
    }
    const path = write('a_external.onnx', encodeModel(model));
    await rejectsNaming(() => loadOnnxModel(path), path, /model with external data: the weight '.+' is stored in 'a_weights\.bin', which is not next to the model/);
    write('a_weights.bin', Buffer.concat(chunks));
    const external = await loadOnnxModel(path);
    const layers = pick(await layerCandidates(runtime, external), ['blocks.1.relu2', 'fc']);
    const data = onnxInputsEvaluation(firstRows(x, 8), fixture('x.npy'), [external]);
    const [ours, original] = [await extractActivations(runtime, external, layers, data), await extractActivations(runtime, a, pick(await layerCandidates(runtime, a), ['blocks.1.relu2', 'fc']), data)];
    ours.forEach((layer, k) => assert.deepEqual(layer.data, original[k].data));
  });

  test('integer inputs are cast to the model input’s element type; non-integers for an integer input are an error', async () => {
    const g = new GraphBuilder('ids');
    const ids = g.input('ids', 'int64', ['batch', 4]);
    const scaled = g.op('Mul', [g.op('Cast', [ids], { to: onnx.TensorProto.DataType.FLOAT }, { name: '/cast/Cast' }), g.scalar(0.5)], {}, { name: '/scale/Mul' });
    g.output(g.op('Relu', [scaled], {}, { name: '/act/Relu' }), 'float32', ['batch', 4]);
    const file = await loadOnnxModel(write('ids.onnx', g.encode()));
    const source = 'ids.npy';
    const ints: NdArray = { dtype: 'int32', shape: [3, 4], data: Float32Array.from([1, 2, 3, 4, -1, -2, 5, 6, 0, 7, 8, 9]) };
    const layers = pick(await layerCandidates(runtime, file), ['act']);
    const [act] = await extractActivations(runtime, file, layers, onnxInputsEvaluation(ints, source, [file]));
    assert.deepEqual(Array.from(act.data), [0.5, 1, 1.5, 2, 0, 0, 2.5, 3, 0, 3.5, 4, 4.5]);
    await rejectsNaming(() => checkOnnxInputs(file, { ...ints, dtype: 'float32', data: Float32Array.from(ints.data, (v) => v + 0.25) }, source), source, /the input 'ids' of .*ids\.onnx is int64, but the inputs \(float32\) hold the non-integer 1\.25/);
    await rejectsNaming(() => checkOnnxInputs(file, { ...ints, dtype: 'bool' }, source), source, /the inputs are bool; expected a float or integer array/);
  });

  test('a float16 model: inputs cast to float16, float16 layers read back and cast for the grams', async () => {
    const g = new GraphBuilder('half');
    const input = g.input('x', 'float32', ['batch', 6]);
    const act = g.op('Relu', [input], {}, { name: '/act/Relu' });
    g.output(g.op('Cast', [act], { to: onnx.TensorProto.DataType.FLOAT }, { name: '/widen/Cast' }), 'float32', ['batch', 6]);
    const model = g.toModel();
    model.graph!.input![0].type!.tensorType!.elemType = onnx.TensorProto.DataType.FLOAT16;
    const file = await loadOnnxModel(write('half.onnx', encodeModel(model)));
    assert.equal(file.input.elementType, 'float16');
    const candidates = await layerCandidates(runtime, file);
    assert.deepEqual(candidates.map((c) => `${c.name}:${c.elementType}`), ['act:float16', 'widen:float32']);
    const values = Float32Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i) * 3);
    const data = onnxInputsEvaluation({ dtype: 'float32', shape: [8, 6], data: values }, 'half.npy', [file]);
    const [half, widened] = await extractActivations(runtime, file, candidates, data);
    assert.deepEqual(half.data, widened.data);
    assert.ok(maxAbsDifference(half.data, values.map((v) => Math.max(v, 0))) < 2e-3);
    const runner = new OnnxModelRunner(runtime, file, candidates, { kernel: LINEAR, linear: false });
    try {
      const { grams, predictions } = await runner.run(values, 8, [6]);
      assert.deepEqual(grams[0].gram, grams[1].gram);
      // The output [n, 6] looks like a classifier's: its argmax per example.
      const argmax = Array.from({ length: 8 }, (_, i) => {
        const row = Array.from(widened.data.subarray(i * 6, (i + 1) * 6));
        return row.indexOf(Math.max(...row));
      });
      assert.deepEqual(Array.from(predictions!), argmax);
    } finally {
      await runner.dispose();
    }
  });

  test('the dataset adapter: NHWC batches normalised by the dataset → the model’s layout and normalisation', () => {
    const dataset = { mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.1] };
    const [h, w, c] = [2, 3, 3];
    const pixels = Float64Array.from({ length: 2 * h * w * c }, (_, i) => ((i * 37) % 256) / 255); // [0, 1]
    const batch = Float32Array.from(pixels, (p, i) => (p - dataset.mean[i % c]) / dataset.std[i % c]);
    const nchw = (value: (p: number, channel: number) => number) => {
      const out: number[] = [];
      for (let n = 0; n < 2; n++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out.push(value(pixels[n * h * w * c + p * c + ch], ch));
      return out;
    };
    const torchvision = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const normalised = onnxImageTransform({ layout: 'NCHW', normalization: torchvision }, dataset, 'm.onnx')(batch, 2, [h, w, c]);
    assert.deepEqual(normalised.exampleShape, [c, h, w]);
    assert.ok(maxAbsDifference(normalised.data, nchw((p, ch) => (p - torchvision.mean[ch]) / torchvision.std[ch])) < 1e-5);
    const scaled = onnxImageTransform({ layout: 'NCHW', normalization: 'scale' }, dataset, 'm.onnx')(batch, 2, [h, w, c]);
    assert.ok(maxAbsDifference(scaled.data, nchw((p) => p)) < 1e-6);
    const same = onnxImageTransform({ layout: 'NHWC', normalization: 'dataset' }, dataset, 'm.onnx')(batch, 2, [h, w, c]);
    assert.deepEqual(same.exampleShape, [h, w, c]);
    assert.deepEqual(same.data, batch);
    assert.throws(() => onnxImageTransform({ layout: 'NCHW', normalization: { mean: [123.7, 116.3, 103.5], std: [58.4, 57.1, 57.4] } }, dataset, 'm.onnx')(batch, 2, [h, w, c]), /m\.onnx: the normalisation's mean and std are on the \[0, 1\] pixel scale/);
    assert.throws(() => onnxImageTransform({ layout: 'NCHW', normalization: { mean: [0.5, 0.5], std: [0.5, 0.5] } }, dataset, 'm.onnx')(batch, 2, [h, w, c]), /2 mean values for images of 3 channels/);
  });

  test('the dataset adapter feeds the runner: NHWC batches give the same grams as NCHW inputs fed as they are', async () => {
    const [n, c, h, w] = [16, 3, 16, 16];
    const nchw = x.data.subarray(0, n * c * h * w) as Float32Array;
    const nhwc = new Float32Array(nchw.length);
    for (let e = 0; e < n; e++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) nhwc[e * c * h * w + p * c + ch] = nchw[e * c * h * w + ch * h * w + p];
    const layers = pick(await layerCandidates(runtime, a), ['stem.relu', 'pool']);
    const transform = onnxImageTransform({ layout: 'NCHW', normalization: 'dataset' }, { mean: [0, 0, 0], std: [1, 1, 1] }, a.path);
    checkImageInput(a, { layout: 'NCHW', normalization: 'dataset' }, 'cifar10', [h, w, c]);
    const plain = new OnnxModelRunner(runtime, a, layers, { kernel: LINEAR, linear: false });
    const adapted = new OnnxModelRunner(runtime, a, layers, { kernel: LINEAR, linear: false, transform });
    try {
      const direct = await plain.run(nchw, n, [c, h, w]);
      const viaAdapter = await adapted.run(nhwc, n, [h, w, c]);
      direct.grams.forEach((g, k) => assert.ok(maxAbsDifference(g.gram, viaAdapter.grams[k].gram) < 1e-6));
    } finally {
      await Promise.all([plain.dispose(), adapted.dispose()]);
    }
    await rejectsNaming(() => checkImageInput(a, { layout: 'NCHW', normalization: 'scale' }, 'fashion-mnist', [28, 28, 1]), a.path, /the input 'input' has shape \[batch, 3, 16, 16\], but fashion-mnist images in layout NCHW are \[n, 1, 28, 28\]/);
    await rejectsNaming(() => checkImageInput(a, { layout: 'NHWC', normalization: 'scale' }, 'cifar10', [16, 16, 3]), a.path, /say layout NCHW/);
  });

  describe('bad input: a clear error naming the file', () => {
    test('not an ONNX file; an empty one; a missing one', async () => {
      const text = write('notes.onnx', new TextEncoder().encode('# my model\nthis is not a model\n'));
      await rejectsNaming(() => loadOnnxModel(text), text, /not an ONNX model/);
      await rejectsNaming(() => loadOnnxModel(fixture('x.npy')), fixture('x.npy'), /not an ONNX model, or a truncated one/);
      const empty = write('empty.onnx', new Uint8Array(0));
      await rejectsNaming(() => loadOnnxModel(empty), empty, /the file is empty/);
      const missing = join(temporary, 'missing.onnx');
      await rejectsNaming(() => loadOnnxModel(missing), missing, /no such file/);
    });

    test('a truncated file, wherever it is cut', async () => {
      const bytes = readFileSync(a.path);
      for (const cut of [10, 100, Math.floor(bytes.length / 2), bytes.length - 200, bytes.length - 1]) {
        const path = write(`cut_${cut}.onnx`, bytes.subarray(0, cut));
        await rejectsNaming(() => loadOnnxModel(path), path, /truncated/);
      }
      // Cut between whole fields: the graph then reads weights that nothing defines.
      const model = decodeModel(bytes);
      model.graph!.initializer = model.graph!.initializer!.slice(0, 3);
      const short = write('short.onnx', encodeModel(model));
      await rejectsNaming(() => loadOnnxModel(short), short, /truncated or damaged ONNX model: node '.+' reads '.+', which nothing in the graph defines/);
    });

    test('an op ONNX Runtime does not support', async () => {
      const model = decodeModel(readFileSync(a.path));
      model.graph!.node![1].opType = 'FancyRelu';
      const path = write('fancy.onnx', encodeModel(model));
      const file = await loadOnnxModel(path);
      await rejectsNaming(() => layerCandidates(runtime, file), path, /the op FancyRelu \(opset 17\) is not supported by ONNX Runtime/);
    });

    test('no dynamic batch axis', async () => {
      const path = fixture('static.onnx');
      await rejectsNaming(() => loadOnnxModel(path), path, /the input 'input' has a fixed batch size of 1 \(shape \[1, 3, 16, 16\]\).*dynamic_axes=\{'input': \{0: 'batch'\}/);
    });

    test('several inputs', async () => {
      const g = new GraphBuilder('two_inputs');
      const left = g.input('image', 'float32', ['batch', 4]);
      const right = g.input('mask', 'float32', ['batch', 4]);
      g.output(g.op('Mul', [left, right]), 'float32', ['batch', 4]);
      const path = write('two_inputs.onnx', g.encode());
      await rejectsNaming(() => loadOnnxModel(path), path, /the model has 2 inputs \('image', 'mask'\); RepSim feeds models with a single input/);
    });

    test('an inputs array of the wrong shape names both shapes (and the layout when it is channels-last)', async () => {
      const source = fixture('x.npy');
      const nhwc: NdArray = { dtype: 'float32', shape: [64, 16, 16, 3], data: x.data };
      await rejectsNaming(
        () => checkOnnxInputs(a, nhwc, source),
        source,
        /inputs of shape \[64, 16, 16, 3\] do not fit the input 'input' of .*a\.onnx, shape \[batch, 3, 16, 16\]: one example is \[16, 16, 3\], the model takes \[3, 16, 16\] \(the inputs are channels-last, NHWC/,
      );
      await rejectsNaming(() => onnxInputsEvaluation({ dtype: 'float32', shape: [64, 768], data: x.data }, source, [a, b]), source, /inputs of shape \[64, 768\] do not fit the input 'input' of .*a\.onnx/);
      await rejectsNaming(() => checkOnnxInputs(a, { dtype: 'float32', shape: [0, 3, 16, 16], data: new Float32Array(0) }, source), source, /hold no examples/);
    });

    test('a batch size fixed inside the graph', async () => {
      const g = new GraphBuilder('fixed_reshape');
      const input = g.input('x', 'float32', ['batch', 2, 3]);
      g.output(g.op('Reshape', [g.op('Relu', [input]), g.int64s([1, 6])]), 'float32', [1, 6]);
      const path = write('fixed_reshape.onnx', g.encode());
      const file = await loadOnnxModel(path);
      await rejectsNaming(() => layerCandidates(runtime, file), path, /running the model on a batch of 2 examples of shape \[2, 3\] failed: .*re-export with a dynamic batch axis/);
    });
  });
});
