// TF.js → ONNX export (src/engine/onnx/export): every layer of every zoo architecture and of hand-built
// models that use every supported layer class must match TF.js within 1e-4 relative, through ONNX Runtime.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { buildModel, parseArchitecture } from '../../src/engine/models/index.js';
import { decodeModel } from '../../src/engine/onnx/graph.js';
import {
  exportLayersModel,
  exportLayersModelGraph,
  SUPPORTED_LAYER_CLASSES,
  tfjsLayoutValue,
  UnsupportedLayerError,
} from '../../src/engine/onnx/export/index.js';
import { testBackend } from '../helpers/backend.js';

const BATCH = 8;
/** max |onnx − tfjs| ≤ TOLERANCE · max(1, max |tfjs|), per layer. */
const TOLERANCE = 1e-4;

/** A small seeded generator (mulberry32), so every run checks the same numbers. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uniform = (next: () => number, size: number, low: number, high: number): Float32Array => Float32Array.from({ length: size }, () => low + (high - low) * next());

/**
 * Gives biases, BN γ/β and moving statistics (and PReLU slopes) non-trivial values, so the
 * parity check sees them: fresh models have zero biases and BN that is the identity.
 */
function randomizeWeights(model: tfl.LayersModel, seed: number): void {
  const next = random(seed);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => {
      const short = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const fill = (low: number, high: number): tf.Tensor => tf.tensor(uniform(next, size, low, high), shape);
      switch (short) {
        case 'bias':
        case 'beta':
          return fill(-0.2, 0.2);
        case 'gamma':
          return fill(0.6, 1.4);
        case 'moving_mean':
          return fill(-0.3, 0.3);
        case 'moving_variance':
          return fill(0.5, 2);
        case 'alpha':
          return fill(0.05, 0.4);
        default:
          return w.read().clone();
      }
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function hiddenLayers(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name);
}

interface ParityReport {
  /** Worst max |onnx − tfjs| / max(1, max |tfjs|) over the layers, and where. */
  readonly worst: number;
  readonly worstLayer: string;
  readonly layers: number;
}

/** Runs a batch through TF.js and through ONNX Runtime; checks every layer's output and the model's output. */
async function checkParity(model: tfl.LayersModel, seed: number, batch = BATCH): Promise<ParityReport> {
  const names = hiddenLayers(model);
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const { bytes, input, output, layerOutputs } = exportLayersModel(model, names);
  assert.deepEqual([...layerOutputs.keys()], names);

  const images = tf.randomUniform([batch, ...inputShape], -1, 1, 'float32', seed);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const results = await session.run({ [input]: new ort.Tensor('float32', images.dataSync() as Float32Array, [batch, ...inputShape]) });
    // Every layer's TF.js output, from one model over the same graph (no new layer calls).
    const probe = tfl.model({ inputs: model.inputs, outputs: names.map((n) => model.getLayer(n).output as tfl.SymbolicTensor) });
    const expected = probe.predict(images) as tf.Tensor[];
    const outputIndex = names.findIndex((n) => (model.getLayer(n).output as tfl.SymbolicTensor).id === model.outputs[0].id);
    let worst = 0;
    let worstLayer = '';
    const compare = (name: string, reference: tf.Tensor, actual: ort.Tensor): void => {
      assert.deepEqual([...actual.dims], reference.shape, `${name}: shape`);
      const want = reference.dataSync();
      const got = actual.data as Float32Array;
      let scale = 1;
      let error = 0;
      for (let i = 0; i < want.length; i++) {
        scale = Math.max(scale, Math.abs(want[i]));
        const diff = Math.abs(got[i] - want[i]);
        error = Math.max(error, Number.isNaN(diff) ? Infinity : diff);
      }
      const relative = error / scale;
      if (relative > worst) [worst, worstLayer] = [relative, name];
      assert.ok(relative <= TOLERANCE, `${name}: max |onnx − tfjs| = ${error} for max |tfjs| = ${scale} (relative ${relative})`);
    };
    names.forEach((name, k) => compare(name, expected[k], results[layerOutputs.get(name)!]));
    compare(`output (${output})`, expected[outputIndex], results[output]);
    tf.dispose(expected);
    return { worst, worstLayer, layers: names.length };
  } finally {
    images.dispose();
    await session.release();
  }
}

function reportParity(t: TestContext, report: ParityReport): void {
  t.diagnostic(`${report.layers} layers, worst relative error ${report.worst.toExponential(2)} at ${report.worstLayer}`);
}

const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]): tfl.SymbolicTensor => layer.apply(x) as tfl.SymbolicTensor;

/** Every activation TF.js names, as Activation layers. */
const ACTIVATION_NAMES = ['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softmax', 'logSoftmax', 'softplus', 'softsign', 'swish', 'mish', 'gelu', 'gelu_new'];

/**
 * An image model that uses every supported layer class, on odd spatial sizes (13×11) so that
 * 'same' padding is asymmetric and strides leave remainders.
 */
function everyLayerImageModel(): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: 100 + k });
  const input = tfl.input({ shape: [13, 11, 3], name: 'image' });
  // Rescaling straight on the NHWC input, and a conv on it.
  const rescaled = apply(tfl.layers.rescaling({ scale: 0.5, offset: 0.25, name: 'rescale' }), input);
  const c1 = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv_same_s2' }), rescaled); // 7×6×8
  const c2 = apply(tfl.layers.conv2d({ filters: 8, kernelSize: [3, 2], strides: 2, padding: 'valid', useBias: false, kernelInitializer: init(2), name: 'conv_valid_s2' }), input); // 6×5×8
  const c3 = apply(tfl.layers.conv2d({ filters: 6, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'elu', kernelInitializer: init(3), name: 'conv_dilated' }), c1); // 7×6×6
  const bn = apply(tfl.layers.batchNormalization({ name: 'bn', epsilon: 1e-3 }), c3);
  const dw = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu6', depthwiseInitializer: init(4), name: 'depthwise' }), bn); // 4×3×12
  // TF.js's DepthwiseConv2D ignores dilationRate (it passes none to tfjs-core); the export must too.
  const dwDilated = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, dilationRate: 2, padding: 'same', depthwiseInitializer: init(14), name: 'depthwise_dilation_ignored' }), bn); // 7×6×6
  const sep = apply(tfl.layers.separableConv2d({ filters: 10, kernelSize: 3, depthMultiplier: 2, padding: 'same', dilationRate: 2, activation: 'swish', depthwiseInitializer: init(5), pointwiseInitializer: init(6), name: 'separable' }), dwDilated); // 7×6×10
  const mp = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'maxpool_same' }), sep); // 4×3×10
  const ap = apply(tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avgpool_same' }), sep); // 4×3×10
  const cat = apply(tfl.layers.concatenate({ name: 'concat' }), [mp, ap, dw]); // 4×3×32

  // Activations, side by side on the same NCHW value, summed.
  const activations = ACTIVATION_NAMES.map((name) => apply(tfl.layers.activation({ activation: name as 'relu', name: `act_${name}` }), cat));
  const advanced = [
    apply(tfl.layers.reLU({ name: 'relu_layer' }), cat),
    apply(tfl.layers.reLU({ maxValue: 0.5, name: 'relu_max' }), cat),
    apply(tfl.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }), cat),
    apply(tfl.layers.elu({ name: 'elu_layer' }), cat),
    apply(tfl.layers.thresholdedReLU({ theta: 0.2, name: 'thresholded' }), cat),
    apply(tfl.layers.prelu({ sharedAxes: [1, 2], name: 'prelu_shared' }), cat),
    apply(tfl.layers.prelu({ name: 'prelu_full' }), cat),
    apply(tfl.layers.softmax({ axis: -1, name: 'softmax_channels' }), cat),
  ];
  const summed = apply(tfl.layers.add({ name: 'sum_activations' }), [...activations, ...advanced]);
  const product = apply(tfl.layers.multiply({ name: 'multiply' }), [activations[1], advanced[2]]);
  const mean = apply(tfl.layers.average({ name: 'average' }), [summed, product, cat]);
  const top = apply(tfl.layers.maximum({ name: 'maximum' }), [mean, activations[3]]);
  const bottom = apply(tfl.layers.minimum({ name: 'minimum' }), [top, activations[2], summed]);
  const noisy = apply(tfl.layers.dropout({ rate: 0.5, name: 'dropout' }), bottom);
  const noisy2 = apply(tfl.layers.gaussianNoise({ stddev: 1, name: 'gaussian_noise' }), noisy);
  const noisy3 = apply(tfl.layers.gaussianDropout({ rate: 0.3, name: 'gaussian_dropout' }), noisy2);
  const noisy4 = apply(tfl.layers.alphaDropout({ rate: 0.3, name: 'alpha_dropout' }), noisy3);

  // Spatial reshuffles on NCHW values.
  const padded = apply(tfl.layers.zeroPadding2d({ padding: [[1, 2], [0, 1]], name: 'zero_pad' }), noisy4); // 7×4×32
  const cropped = apply(tfl.layers.cropping2D({ cropping: [[1, 0], [0, 2]], name: 'crop' }), padded); // 6×2×32
  const nearest = apply(tfl.layers.upSampling2d({ size: [2, 3], name: 'upsample_nearest' }), cropped); // 12×6×32
  const bilinear = apply(tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'upsample_bilinear' }), cropped); // 12×4×32
  const avgValid = apply(tfl.layers.averagePooling2d({ poolSize: 2, padding: 'valid', name: 'avgpool_valid' }), nearest); // 6×3×32
  const maxValid = apply(tfl.layers.maxPooling2d({ poolSize: [2, 2], strides: [2, 1], padding: 'valid', name: 'maxpool_valid' }), bilinear); // 6×3×32
  const joined = apply(tfl.layers.concatenate({ axis: 3, name: 'concat_axis3' }), [avgValid, maxValid]); // 6×3×64
  const layerNorm = apply(tfl.layers.layerNormalization({ name: 'layer_norm', epsilon: 1e-3 }), joined);
  const layerNormHw = apply(tfl.layers.layerNormalization({ axis: [1, 2, 3], name: 'layer_norm_hwc' }), joined);
  const normed = apply(tfl.layers.add({ name: 'add_norms' }), [layerNorm, layerNormHw]);
  const mixed = apply(tfl.layers.conv2d({ filters: 16, kernelSize: 1, kernelInitializer: init(7), name: 'conv_1x1' }), normed); // 6×3×16

  // Heads: global pools, flatten, reshape, dense on rank 4 and rank 3, conv1d, permute, repeatVector.
  const gap = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), mixed); // 16
  const gmp = apply(tfl.layers.globalMaxPooling2d({ name: 'gmp' }), mixed); // 16
  const gapValid = apply(tfl.layers.globalAveragePooling2d({ name: 'gap_conv_valid' }), c2); // 8
  const flat = apply(tfl.layers.flatten({ name: 'flatten' }), mixed); // 288
  const flatDense = apply(tfl.layers.dense({ units: 12, activation: 'tanh', kernelInitializer: init(8), name: 'dense_flat' }), flat);
  const dense4 = apply(tfl.layers.dense({ units: 5, activation: 'gelu', kernelInitializer: init(9), name: 'dense_rank4' }), mixed); // 6×3×5
  const flat4 = apply(tfl.layers.flatten({ name: 'flatten_dense4' }), dense4); // 90
  const seq = apply(tfl.layers.reshape({ targetShape: [-1, 16], name: 'reshape_seq' }), mixed); // 18×16, length unknown to TF.js (null)
  const seqDense = apply(tfl.layers.dense({ units: 6, activation: 'selu', kernelInitializer: init(10), name: 'dense_rank3' }), seq); // 18×6
  const seqConv = apply(tfl.layers.conv1d({ filters: 7, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(11), name: 'conv1d' }), seqDense); // 9×7
  const seqPool = apply(tfl.layers.maxPooling1d({ poolSize: 2, name: 'maxpool1d' }), seqConv); // 4×7
  const seqAvg = apply(tfl.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same', name: 'avgpool1d_same' }), seqConv); // 5×7
  const seqDrop = apply(tfl.layers.spatialDropout1d({ rate: 0.2, name: 'spatial_dropout' }), seqAvg);
  const gap1 = apply(tfl.layers.globalAveragePooling1d({ name: 'gap1d' }), seqPool); // 7
  const gmp1 = apply(tfl.layers.globalMaxPooling1d({ name: 'gmp1d' }), seqDrop); // 7
  const permuted = apply(tfl.layers.permute({ dims: [3, 1, 2], name: 'permute' }), mixed); // 16×6×3
  const reshaped = apply(tfl.layers.reshape({ targetShape: [288], name: 'reshape_flat' }), permuted); // 288
  const small = apply(tfl.layers.dense({ units: 4, kernelInitializer: init(12), name: 'dense_small' }), reshaped); // 4
  const repeated = apply(tfl.layers.repeatVector({ n: 3, name: 'repeat' }), small); // 3×4
  const repeatedFlat = apply(tfl.layers.flatten({ name: 'flatten_repeat' }), repeated); // 12
  const features = apply(tfl.layers.concatenate({ name: 'features' }), [gap, gmp, gapValid, flatDense, flat4, gap1, gmp1, repeatedFlat]);
  // TF.js's Softmax *layer* defaults to axis 1 (tfjs-core's softmax only takes the last axis, so rank 2 here).
  const featureSoftmax = apply(tfl.layers.softmax({ name: 'softmax_default_axis' }), features);
  const bn1d = apply(tfl.layers.batchNormalization({ name: 'bn_rank2' }), apply(tfl.layers.concatenate({ name: 'features_and_softmax' }), [features, featureSoftmax]));
  const probabilities = apply(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(13), name: 'classifier' }), bn1d);
  const model = tfl.model({ inputs: input, outputs: probabilities, name: 'every-layer' });
  randomizeWeights(model, 99);
  return model;
}

describe('ONNX export of TF.js models', () => {
  before(async () => {
    await testBackend();
  });

  describe('parity with TF.js, every layer, the model zoo', () => {
    const ZOO = ['resnet-8', 'resnet-20', 'resnet-14-w2', 'resnet-50', 'plain-cnn-4', 'plain-cnn-10', 'plain-cnn-7-w0.5'];
    for (const [index, name] of ZOO.entries()) {
      test(name, async (t) => {
        const model = buildModel(parseArchitecture(name), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
        try {
          randomizeWeights(model, 1000 + index);
          reportParity(t, await checkParity(model, 7 + index));
        } finally {
          model.dispose();
        }
      });
    }

    test('resnet-8 on 28×28×1 (Fashion-MNIST shape)', async (t) => {
      const model = buildModel(parseArchitecture('resnet-8'), { inputShape: [28, 28, 1], numClasses: 10, seed: 2 });
      try {
        randomizeWeights(model, 5);
        reportParity(t, await checkParity(model, 3));
      } finally {
        model.dispose();
      }
    });
  });

  describe('parity with TF.js, hand-built models', () => {
    let model: tfl.LayersModel;
    before(() => {
      model = everyLayerImageModel();
    });
    after(() => model.dispose());

    test('a model with every supported layer class', async (t) => {
      const classes = new Set(model.layers.map((l) => l.getClassName()));
      for (const className of SUPPORTED_LAYER_CLASSES) assert.ok(classes.has(className), `the test model lacks ${className}`);
      reportParity(t, await checkParity(model, 11));
    });

    test('batch of one and a larger batch (the batch axis is dynamic)', async () => {
      await checkParity(model, 12, 1);
      await checkParity(model, 13, 17);
    });

    test('a Sequential model with a Dense layer on the NHWC input', async (t) => {
      const seq = tfl.sequential({
        layers: [
          tfl.layers.dense({ units: 4, inputShape: [5, 7, 3], activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
          tfl.layers.conv2d({ filters: 6, kernelSize: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
          tfl.layers.batchNormalization({ axis: 3, center: false }),
          tfl.layers.batchNormalization({ scale: false }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 3, useBias: false, activation: 'softplus', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
        ],
      });
      try {
        randomizeWeights(seq, 3);
        reportParity(t, await checkParity(seq, 4));
      } finally {
        seq.dispose();
      }
    });
  });

  describe('graph structure', () => {
    test('layer names and order are the model\'s; convs stay NCHW, heads are in TF.js layout', () => {
      const model = buildModel(parseArchitecture('resnet-8'), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
      try {
        const graph = exportLayersModelGraph(model);
        assert.deepEqual([...graph.layers.keys()], hiddenLayers(model));
        for (const [name, layer] of graph.layers) {
          assert.equal(layer.layer, name);
          assert.deepEqual(layer.shape, model.getLayer(name).outputShape);
        }
        assert.equal(graph.layers.get('stem/conv')!.layout, 'nchw');
        assert.equal(graph.layers.get('stage1/block1/add')!.layout, 'nchw');
        assert.equal(graph.layers.get('pool')!.layout, 'other');
        assert.equal(graph.layers.get('classifier')!.layout, 'other');
        assert.equal(graph.output, graph.layers.get('classifier')!.value);
        assert.equal(graph.builder.outputs.length, 0, 'no outputs set yet');
        // One transpose: the input into the stem conv.
        assert.equal(graph.builder.nodes.filter((n) => n.opType === 'Transpose').length, 1);
        const inputInfo = graph.builder.inputs.find((i) => i.name === graph.input)!;
        const dims = inputInfo.type!.tensorType!.shape!.dim!;
        assert.deepEqual(dims.map((d) => d.dimParam || Number(d.dimValue)), ['batch', 32, 32, 3]);
      } finally {
        model.dispose();
      }
    });

    test('tfjsLayoutValue transposes an NCHW value once, and returns TF.js-layout values as they are', () => {
      const model = buildModel(parseArchitecture('plain-cnn-4'), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
      try {
        const graph = exportLayersModelGraph(model);
        const transposes = () => graph.builder.nodes.filter((n) => n.opType === 'Transpose').length;
        const before = transposes();
        const first = tfjsLayoutValue(graph, 'stage1/layer1/out');
        assert.notEqual(first, graph.layers.get('stage1/layer1/out')!.value);
        assert.equal(tfjsLayoutValue(graph, 'stage1/layer1/out'), first);
        assert.equal(transposes(), before + 1);
        assert.equal(tfjsLayoutValue(graph, 'classifier'), graph.layers.get('classifier')!.value);
        assert.equal(transposes(), before + 1);
        assert.throws(() => tfjsLayoutValue(graph, 'no such layer'), /'no such layer' is not a layer/);
        assert.equal(tfjsLayoutValue({ ...graph }, 'stage1/layer1/out'), first, 'a copy of the graph object shares the memo');
      } finally {
        model.dispose();
      }
    });

    test('grams from the unfinished graph: an NCHW value gives the gram of the TF.js activations', async () => {
      const model = buildModel(parseArchitecture('resnet-8'), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
      try {
        randomizeWeights(model, 21);
        const graph = exportLayersModelGraph(model);
        const layers = ['stem/out', 'stage2/block1/add', 'pool'];
        const { builder } = graph;
        for (const name of layers) {
          const { value } = graph.layers.get(name)!;
          const flat = builder.op('Flatten', [value], { axis: 1 }); // [n, features] in the value's own layout
          builder.output(builder.op('Gemm', [flat, flat], { transB: 1 }, { outputNames: [`gram/${name}`] }), 'float32', ['batch', 'batch']);
        }
        const images = tf.randomUniform([BATCH, 32, 32, 3], -1, 1, 'float32', 5);
        const session = await ort.InferenceSession.create(builder.encode(), { intraOpNumThreads: 1 });
        try {
          const results = await session.run({ [graph.input]: new ort.Tensor('float32', images.dataSync() as Float32Array, [BATCH, 32, 32, 3]) });
          const probe = tfl.model({ inputs: model.inputs, outputs: layers.map((n) => model.getLayer(n).output as tfl.SymbolicTensor) });
          const activations = probe.predict(images) as tf.Tensor[];
          layers.forEach((name, k) => {
            const want = tf.tidy(() => {
              const x = tf.reshape(activations[k], [BATCH, -1]);
              return tf.matMul(x, x, false, true).dataSync();
            });
            const got = results[`gram/${name}`].data as Float32Array;
            const scale = Math.max(1, ...Array.from(want, Math.abs));
            const error = Math.max(...Array.from(want, (w, i) => Math.abs(w - got[i])));
            assert.ok(error <= TOLERANCE * scale, `${name}: gram error ${error} for scale ${scale}`);
          });
          tf.dispose(activations);
        } finally {
          images.dispose();
          await session.release();
        }
      } finally {
        model.dispose();
      }
    });

    test('exportLayersModel: outputs are the model output, then the asked layers, in TF.js layout', () => {
      const model = buildModel(parseArchitecture('plain-cnn-4'), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
      try {
        const layers = ['stage2/layer1/bn', 'pool', 'stage1/layer1/conv'];
        const { bytes, input, output, layerOutputs } = exportLayersModel(model, layers);
        assert.equal(output, 'output');
        assert.equal(input, 'input');
        assert.deepEqual([...layerOutputs.keys()], layers);
        const decoded = decodeModel(bytes);
        assert.deepEqual(
          decoded.graph!.output!.map((o) => o.name),
          ['output', ...layers.map((l) => layerOutputs.get(l)!)],
        );
        const bnDims = decoded.graph!.output![1].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
        assert.deepEqual(bnDims, ['batch', 16, 16, 32]);
        assert.throws(() => exportLayersModel(model, ['input']), /no layer 'input'/);
      } finally {
        model.dispose();
      }
    });
  });

  describe('what the exporter refuses', () => {
    test('an LSTM layer: UnsupportedLayerError naming it', () => {
      const input = tfl.input({ shape: [5, 4] });
      const lstm = apply(tfl.layers.lstm({ units: 3, recurrentInitializer: 'glorotUniform', name: 'my_lstm' }), input);
      const model = tfl.model({ inputs: input, outputs: apply(tfl.layers.dense({ units: 2, name: 'head' }), lstm) });
      try {
        assert.throws(
          () => exportLayersModelGraph(model),
          (error: unknown) => error instanceof UnsupportedLayerError && error.layerName === 'my_lstm' && error.className === 'LSTM' && /my_lstm/.test(error.message) && /LSTM/.test(error.message),
        );
      } finally {
        model.dispose();
      }
    });

    test('a custom layer class: UnsupportedLayerError naming it', () => {
      class Doubler extends tfl.layers.Layer {
        static readonly className = 'Doubler';
        override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
          return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
        }
      }
      const input = tfl.input({ shape: [4] });
      const model = tfl.model({ inputs: input, outputs: apply(new Doubler({ name: 'double_it' }), input) });
      try {
        assert.throws(() => exportLayersModel(model, []), (error: unknown) => error instanceof UnsupportedLayerError && error.layerName === 'double_it' && error.className === 'Doubler');
      } finally {
        model.dispose();
      }
    });

    test('a known class in a form it cannot express (channelsFirst conv): UnsupportedLayerError with the reason', () => {
      const input = tfl.input({ shape: [3, 8, 8] });
      const model = tfl.model({ inputs: input, outputs: apply(tfl.layers.conv2d({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst', name: 'cf_conv' }), input) });
      try {
        assert.throws(() => exportLayersModelGraph(model), (error: unknown) => error instanceof UnsupportedLayerError && error.layerName === 'cf_conv' && /channelsFirst/.test(error.message));
      } finally {
        model.dispose();
      }
    });

    test('BatchNormalization on a non-channel axis (TF.js\'s kernels get it wrong): UnsupportedLayerError', () => {
      const input = tfl.input({ shape: [3, 2, 4] });
      const model = tfl.model({ inputs: input, outputs: apply(tfl.layers.batchNormalization({ axis: 1, name: 'bn_h' }), input) });
      try {
        assert.throws(() => exportLayersModelGraph(model), (error: unknown) => error instanceof UnsupportedLayerError && error.layerName === 'bn_h' && /not the last axis/.test(error.message));
      } finally {
        model.dispose();
      }
    });

    test('a model with two inputs: a clear UnsupportedLayerError', () => {
      const a = tfl.input({ shape: [4], name: 'a' });
      const b = tfl.input({ shape: [4], name: 'b' });
      const model = tfl.model({ inputs: [a, b], outputs: apply(tfl.layers.add({ name: 'sum' }), [a, b]) });
      try {
        assert.throws(() => exportLayersModelGraph(model), (error: unknown) => error instanceof UnsupportedLayerError && /2 inputs/.test(error.message));
      } finally {
        model.dispose();
      }
    });
  });
});
