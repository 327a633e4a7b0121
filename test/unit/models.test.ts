import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../src/engine/errors.js';
import {
  architectureName,
  buildModel,
  hiddenLayerNames,
  normalizeArchitecture,
  parseArchitecture,
  parseLayerSelection,
  selectLayers,
  type ArchitectureSpec,
  type BuildOptions,
} from '../../src/engine/models/index.js';
import { baseChannels } from '../../src/engine/models/architecture.js';
import { testBackend } from '../helpers/backend.js';

const CIFAR: BuildOptions = { inputShape: [32, 32, 3], numClasses: 10, seed: 1 };
const FASHION_MNIST: BuildOptions = { inputShape: [28, 28, 1], numClasses: 10, seed: 1 };

/** Builds, runs `use`, disposes: keeps the tests' memory flat. */
function withModel<T>(spec: ArchitectureSpec | string, options: BuildOptions, use: (model: tfl.LayersModel) => T): T {
  const model = buildModel(typeof spec === 'string' ? parseArchitecture(spec) : spec, options);
  try {
    return use(model);
  } finally {
    model.dispose();
  }
}

/** Parameters of everything but the classifier: Keras' `include_top=False` count. */
function baseParams(model: tfl.LayersModel): number {
  return model.countParams() - model.outputLayers[0].countParams();
}

function trainableParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.read().size, 0);
}

function kernel(model: tfl.LayersModel, layerName: string): Float32Array {
  return model.getLayer(layerName).getWeights()[0].dataSync() as Float32Array;
}

/** Class probabilities for a couple of random images. */
function predict(model: tfl.LayersModel, options: BuildOptions, batch = 2): { shape: number[]; rowSums: number[] } {
  return tf.tidy(() => {
    const images = tf.randomUniform([batch, ...options.inputShape], 0, 1, 'float32', 3);
    const output = model.predict(images) as tf.Tensor;
    return { shape: output.shape, rowSums: Array.from(tf.sum(output, 1).dataSync()) };
  });
}

function assertProbabilities(result: { shape: number[]; rowSums: number[] }, batch: number, classes: number): void {
  assert.deepEqual(result.shape, [batch, classes]);
  for (const sum of result.rowSums) assert.ok(Math.abs(sum - 1) < 1e-5, `softmax row sums to ${sum}`);
}

function standardDeviation(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  return Math.sqrt(variance / values.length);
}

before(async () => {
  await testBackend();
});

describe('parameter counts', () => {
  test('ResNet-20 matches the reference structure: 274,442 (273,066 trainable), the Keras cifar10_resnet count', () => {
    withModel('resnet-20', CIFAR, (model) => {
      assert.equal(model.countParams(), 274_442);
      assert.equal(trainableParams(model), 273_066);
    });
  });

  test('CIFAR ResNet counts follow from the blocks: depth and width multipliers', () => {
    // Per block (no projection) with c channels: two 3×3 convs with bias + two BN (4c each).
    const block = (c: number): number => 2 * (9 * c * c + c) + 2 * 4 * c;
    const firstBlock = (c: number): number => 9 * (c / 2) * c + c + 9 * c * c + c + 2 * 4 * c + ((c / 2) * c + c);
    const expected = (n: number, base: number, classes: number): number =>
      27 * base + base + 4 * base + n * block(base) + firstBlock(2 * base) + (n - 1) * block(2 * base) + firstBlock(4 * base) + (n - 1) * block(4 * base) + 4 * base * classes + classes;
    assert.equal(expected(3, 16, 10), 274_442);
    withModel('resnet-56', CIFAR, (model) => assert.equal(model.countParams(), expected(9, 16, 10)));
    withModel('resnet-14-w2', CIFAR, (model) => assert.equal(model.countParams(), expected(2, 32, 10)));
  });

  test('bottleneck ResNet bases equal Keras include_top=False: 23,587,712 / 42,658,176 / 58,370,944', () => {
    // Keras applications: 25,636,712 / 44,707,176 / 60,419,944 with the 1000-class top (2048·1000 + 1000).
    const expected: Record<string, number> = { 'resnet-50': 23_587_712, 'resnet-101': 42_658_176, 'resnet-152': 58_370_944 };
    for (const [name, base] of Object.entries(expected)) {
      withModel(name, CIFAR, (model) => {
        assert.equal(baseParams(model), base, name);
        assert.equal(model.countParams(), base + 2048 * 10 + 10, name);
      });
    }
    withModel('resnet-50', CIFAR, (model) => assert.equal(trainableParams(model) - (2048 * 10 + 10), 23_587_712 - 53_120)); // Keras: 53,120 non-trainable
  });

  test('plain CNN: 3×3 conv (bias) + BN per layer, dense on top', () => {
    const layer = (inC: number, outC: number): number => 9 * inC * outC + outC + 4 * outC;
    const expected = layer(3, 16) + 2 * layer(16, 16) + layer(16, 32) + 2 * layer(32, 32) + layer(32, 64) + 2 * layer(64, 64) + 64 * 10 + 10;
    withModel('plain-cnn-10', CIFAR, (model) => assert.equal(model.countParams(), expected));
  });
});

describe('outputs', () => {
  test('every family gives class probabilities for CIFAR-shaped input', () => {
    for (const name of ['resnet-20', 'plain-cnn-10', 'resnet-50']) {
      withModel(name, CIFAR, (model) => assertProbabilities(predict(model, CIFAR), 2, 10));
    }
  });

  test('28×28×1 input (Fashion-MNIST) and other class counts work', () => {
    const options: BuildOptions = { ...FASHION_MNIST, numClasses: 7 };
    for (const name of ['resnet-20', 'plain-cnn-7-w0.5', 'resnet-50']) {
      withModel(name, options, (model) => {
        assert.deepEqual(model.inputs[0].shape, [null, 28, 28, 1]);
        assertProbabilities(predict(model, options), 2, 7);
      });
    }
  });

  test('CIFAR ResNet shapes: 16k·32k·64k channels, stride 2 entering stages 2 and 3, projection only there', () => {
    withModel('resnet-20-w2', CIFAR, (model) => {
      const shape = (name: string): unknown => model.getLayer(name).outputShape;
      assert.deepEqual(shape('stem/out'), [null, 32, 32, 32]);
      assert.deepEqual(shape('stage1/block3/out'), [null, 32, 32, 32]);
      assert.deepEqual(shape('stage2/block1/out'), [null, 16, 16, 64]);
      assert.deepEqual(shape('stage3/block1/shortcut'), [null, 8, 8, 128]);
      assert.deepEqual(shape('pool'), [null, 128]);
      const shortcuts = model.layers.filter((l) => l.name.endsWith('/shortcut')).map((l) => l.name);
      assert.deepEqual(shortcuts, ['stage2/block1/shortcut', 'stage3/block1/shortcut']);
      // The reference's projection is a bare 1×1 conv with bias: kernel + bias, no BN after it.
      assert.equal(model.getLayer('stage2/block1/shortcut').getWeights().length, 2);
      assert.ok(!model.layers.some((l) => l.name.includes('shortcut') && l.getClassName() === 'BatchNormalization'));
    });
  });

  test('bottleneck ResNet-50 at 32×32: Keras shapes (1×1 maps and 2048 channels after conv5)', () => {
    withModel('resnet-50', CIFAR, (model) => {
      const shape = (name: string): unknown => model.getLayer(name).outputShape;
      assert.deepEqual(shape('conv1_relu'), [null, 16, 16, 64]);
      assert.deepEqual(shape('pool1_pool'), [null, 8, 8, 64]);
      assert.deepEqual(shape('conv2_block3_out'), [null, 8, 8, 256]);
      assert.deepEqual(shape('conv3_block1_out'), [null, 4, 4, 512]);
      assert.deepEqual(shape('conv5_block3_out'), [null, 1, 1, 2048]);
      const bn = model.getLayer('conv3_block2_2_bn').getConfig();
      assert.equal(bn.epsilon, 1.001e-5);
    });
  });
});

describe('layer names', () => {
  test('CIFAR ResNet names: stem, stage/block/op, pool, classifier', () => {
    withModel('resnet-20', CIFAR, (model) => {
      const names = model.layers.map((l) => l.name);
      assert.deepEqual(names.slice(0, 11), [
        'input',
        'stem/conv',
        'stem/bn',
        'stem/out',
        'stage1/block1/conv1',
        'stage1/block1/bn1',
        'stage1/block1/relu1',
        'stage1/block1/conv2',
        'stage1/block1/bn2',
        'stage1/block1/add',
        'stage1/block1/out',
      ]);
      assert.deepEqual(names.slice(-2), ['pool', 'classifier']);
      assert.equal(new Set(names).size, names.length);
      for (const name of names) assert.match(name, /^[a-z0-9_/]+$/);
    });
  });

  test('bottleneck ResNet names are Keras applications names', () => {
    withModel('resnet-50', CIFAR, (model) => {
      const names = model.layers.map((l) => l.name);
      assert.deepEqual(names.slice(0, 7), ['input', 'conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool']);
      for (const name of ['conv2_block1_0_conv', 'conv2_block1_0_bn', 'conv2_block1_3_bn', 'conv4_block6_add', 'conv5_block3_out']) assert.ok(names.includes(name), name);
      assert.ok(!names.includes('conv2_block2_0_conv'), 'identity blocks have no projection');
      assert.deepEqual(names.slice(-2), ['avg_pool', 'predictions']);
      assert.equal(new Set(names).size, names.length);
    });
  });

  test('names are stable: the same spec gives the same names whatever the seed or input', () => {
    const a = withModel('resnet-32-w2', CIFAR, (m) => m.layers.map((l) => l.name));
    const b = withModel('resnet-32-w2', { ...FASHION_MNIST, seed: 99 }, (m) => m.layers.map((l) => l.name));
    assert.deepEqual(a, b);
  });

  test('plain CNN names', () => {
    withModel('plain-cnn-10', CIFAR, (model) => {
      // A plain CNN's blocks are its conv layers; its final pool is the last of them.
      assert.deepEqual(selectLayers(model, 'blocks'), [...[1, 2, 3].flatMap((s) => [1, 2, 3].map((l) => `stage${s}/layer${l}/out`)), 'pool']);
      assert.deepEqual(model.layers.slice(1, 4).map((l) => l.name), ['stage1/layer1/conv', 'stage1/layer1/bn', 'stage1/layer1/out']);
    });
  });
});

describe('layer selection', () => {
  test("'all' is every hidden layer: no input, padding or softmax output; pools included", () => {
    withModel('resnet-20', CIFAR, (model) => {
      const all = selectLayers(model, 'all');
      assert.equal(all.length, model.layers.length - 2);
      assert.ok(!all.includes('input') && !all.includes('classifier'));
      assert.equal(all.at(-1), 'pool');
      assert.deepEqual(all, hiddenLayerNames(model));
    });
    withModel('resnet-50', CIFAR, (model) => {
      const all = selectLayers(model, 'all');
      assert.ok(!all.includes('conv1_pad') && !all.includes('pool1_pad') && !all.includes('predictions'));
      assert.ok(all.includes('pool1_pool') && all.includes('avg_pool'));
      assert.equal(all.length, model.layers.length - 4);
    });
  });

  test("'blocks' is the stem output and every block output, in forward order", () => {
    withModel('resnet-20', CIFAR, (model) => {
      const expected = ['stem/out', ...[1, 2, 3].flatMap((s) => [1, 2, 3].map((b) => `stage${s}/block${b}/out`))];
      assert.deepEqual(selectLayers(model, 'blocks'), expected);
    });
    withModel('resnet-50', CIFAR, (model) => {
      const blocks = selectLayers(model, 'blocks');
      assert.equal(blocks.length, 1 + 3 + 4 + 6 + 3);
      assert.deepEqual(blocks.slice(0, 3), ['pool1_pool', 'conv2_block1_out', 'conv2_block2_out']);
      assert.equal(blocks.at(-1), 'conv5_block3_out');
    });
  });

  test('globs and regular expressions pick hidden layers in forward order', () => {
    withModel('resnet-20', CIFAR, (model) => {
      assert.deepEqual(selectLayers(model, { pattern: 'stage2/*/out' }), ['stage2/block1/out', 'stage2/block2/out', 'stage2/block3/out']);
      assert.deepEqual(selectLayers(model, { pattern: 'stage{1,3}/block1/conv?' }), [
        'stage1/block1/conv1',
        'stage1/block1/conv2',
        'stage3/block1/conv1',
        'stage3/block1/conv2',
      ]);
      assert.deepEqual(selectLayers(model, { pattern: '**/shortcut' }), ['stage2/block1/shortcut', 'stage3/block1/shortcut']);
      assert.deepEqual(selectLayers(model, { pattern: 'stem/*' }), ['stem/conv', 'stem/bn', 'stem/out']);
      assert.deepEqual(selectLayers(model, { pattern: '*' }), ['pool'], "'*' does not cross '/'");
      assert.deepEqual(selectLayers(model, { pattern: '/^stage3.*bn\\d$/' }).length, 6);
      assert.deepEqual(selectLayers(model, { pattern: '/STEM/i' }), ['stem/conv', 'stem/bn', 'stem/out']);
      const all = hiddenLayerNames(model);
      const picked = selectLayers(model, { pattern: '/add|relu1/' });
      assert.deepEqual(picked, all.filter((n) => picked.includes(n)), 'forward order');
    });
    withModel('resnet-50', CIFAR, (model) => {
      assert.equal(selectLayers(model, { pattern: 'conv4_*_out' }).length, 6);
    });
  });

  test('a pattern that matches nothing, a bad regex or an empty selection is an InputError', () => {
    withModel('resnet-20', CIFAR, (model) => {
      assert.throws(() => selectLayers(model, { pattern: 'stage9/*' }), (e: unknown) => e instanceof InputError && /matches none of the 69 hidden layers/.test(e.message));
      assert.throws(() => selectLayers(model, { pattern: 'classifier' }), InputError, 'the softmax output is not a hidden layer');
      assert.throws(() => selectLayers(model, { pattern: '/(/' }), InputError);
      assert.throws(() => selectLayers(model, { pattern: '/x/g' }), InputError);
      assert.throws(() => selectLayers(model, { pattern: 'stage{1,2' }), InputError);
    });
    assert.throws(() => parseLayerSelection('  '), InputError);
  });

  test('parseLayerSelection reads the CLI forms', () => {
    assert.equal(parseLayerSelection('all'), 'all');
    assert.equal(parseLayerSelection(' blocks '), 'blocks');
    assert.deepEqual(parseLayerSelection('stage1/*/out'), { pattern: 'stage1/*/out' });
  });
});

describe('seeded initialisation', () => {
  test('same spec and seed give identical weights; another seed gives different kernels', () => {
    const weightsOf = (seed: number): { data: Float32Array; rank: number }[] =>
      withModel('resnet-20', { ...CIFAR, seed }, (model) => model.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, rank: w.rank })));
    const first = weightsOf(5);
    const again = weightsOf(5);
    const other = weightsOf(6);
    assert.equal(first.length, again.length);
    first.forEach((w, i) => assert.deepEqual(w.data, again[i].data));
    const kernels = first.map((w, i) => ({ w, i })).filter(({ w }) => w.rank >= 2);
    assert.equal(kernels.length, 19 + 2 + 1, 'conv kernels, projection kernels and the dense kernel');
    for (const { w, i } of kernels) assert.notDeepEqual(w.data, other[i].data, `kernel ${i} should differ between seeds`);
  });

  test('layers of the same shape get different weights; another architecture does not share them', () => {
    withModel('resnet-20', CIFAR, (model) => {
      assert.notDeepEqual(kernel(model, 'stage1/block1/conv2'), kernel(model, 'stage1/block2/conv2'));
      const stem20 = kernel(model, 'stem/conv');
      const stem56 = withModel('resnet-56', CIFAR, (deeper) => kernel(deeper, 'stem/conv'));
      assert.notDeepEqual(stem20, stem56);
    });
  });

  test("CIFAR ResNet kernels follow Keras he_normal: truncated at 2σ' with actual std √(2/fan_in)", () => {
    withModel('resnet-20', CIFAR, (model) => {
      const values = kernel(model, 'stage3/block2/conv2'); // 3·3·64·64, fan_in 576
      const target = Math.sqrt(2 / 576);
      const std = standardDeviation(values);
      assert.ok(Math.abs(std / target - 1) < 0.03, `std ${std} vs ${target}`);
      const bound = (2 * target) / 0.87962566103423978;
      assert.ok(values.every((v) => Math.abs(v) <= bound * (1 + 1e-6)));
    });
  });

  test('bottleneck kernels follow Keras glorot_uniform', () => {
    withModel('resnet-50', CIFAR, (model) => {
      const values = kernel(model, 'conv2_block2_1_conv'); // 1·1·256·64
      const limit = Math.sqrt(6 / (256 + 64));
      assert.ok(values.every((v) => Math.abs(v) <= limit));
      assert.ok(Math.abs(standardDeviation(values) / (limit / Math.sqrt(3)) - 1) < 0.03);
    });
  });
});

describe('architecture names', () => {
  test('parse the documented forms', () => {
    assert.deepEqual(parseArchitecture('resnet-20'), { family: 'resnet-cifar', depth: 20, widthMultiplier: 1 });
    assert.deepEqual(parseArchitecture(' ResNet-56-w4 '), { family: 'resnet-cifar', depth: 56, widthMultiplier: 4 });
    assert.deepEqual(parseArchitecture('resnet-110-w0.5'), { family: 'resnet-cifar', depth: 110, widthMultiplier: 0.5 });
    assert.deepEqual(parseArchitecture('resnet-50'), { family: 'resnet', depth: 50 });
    assert.deepEqual(parseArchitecture('resnet152'), { family: 'resnet', depth: 152 });
    assert.deepEqual(parseArchitecture('resnet-cifar-50'), { family: 'resnet-cifar', depth: 50, widthMultiplier: 1 });
    assert.deepEqual(parseArchitecture('plain-cnn'), { family: 'plain-cnn', depth: 10, widthMultiplier: 1 });
    assert.deepEqual(parseArchitecture('plain-cnn-13-w2'), { family: 'plain-cnn', depth: 13, widthMultiplier: 2 });
  });

  test('name and parse round-trip', () => {
    const specs: ArchitectureSpec[] = [
      { family: 'resnet-cifar', depth: 20 },
      { family: 'resnet-cifar', depth: 56, widthMultiplier: 4 },
      { family: 'resnet-cifar', depth: 50, widthMultiplier: 0.25 },
      { family: 'resnet-cifar', depth: 152 },
      { family: 'resnet', depth: 50 },
      { family: 'resnet', depth: 101 },
      { family: 'resnet', depth: 152 },
      { family: 'plain-cnn' },
      { family: 'plain-cnn', depth: 4, widthMultiplier: 1 / 3 },
    ];
    for (const spec of specs) {
      const name = architectureName(spec);
      assert.deepEqual(parseArchitecture(name), normalizeArchitecture(spec), name);
      assert.equal(architectureName(parseArchitecture(name)), name);
    }
    assert.equal(architectureName({ family: 'resnet-cifar', depth: 56, widthMultiplier: 4 }), 'resnet-56-w4');
    assert.equal(architectureName({ family: 'resnet-cifar', depth: 50 }), 'resnet-cifar-50');
    assert.equal(architectureName({ family: 'plain-cnn' }), 'plain-cnn-10');
    withModel({ family: 'resnet-cifar', depth: 8 }, CIFAR, (model) => assert.equal(model.name, 'resnet-8'));
  });

  test('bad names and specs are InputErrors that list the valid forms', () => {
    const bad = ['resnet-21', 'resnet-2', 'resnet-50-w2', 'resnet-20-w0', 'resnet-20-w100', 'resnet-20-wide', 'plain-cnn-11', 'vgg-16', ''];
    for (const text of bad) {
      assert.throws(
        () => parseArchitecture(text),
        (e: unknown) => e instanceof InputError && e.message.includes('resnet-<6n+2>') && e.message.includes('plain-cnn-<3n+1>') && !e.message.includes('\n'),
        text,
      );
    }
    assert.throws(() => parseArchitecture('resnet-21'), /depth 21 is not 6n\+2/);
    assert.throws(() => parseArchitecture('resnet-50-w2'), /resnet-cifar-50-w2/);
    assert.throws(() => normalizeArchitecture({ family: 'resnet', depth: 34 as 50 }), InputError);
    assert.throws(() => buildModel({ family: 'resnet-cifar', depth: 22 }, CIFAR), InputError);
  });

  test('bad build options are InputErrors', () => {
    const spec = parseArchitecture('resnet-8');
    assert.throws(() => buildModel(spec, { ...CIFAR, numClasses: 1 }), InputError);
    assert.throws(() => buildModel(spec, { ...CIFAR, inputShape: [0, 32, 3] }), InputError);
    assert.throws(() => buildModel(spec, { ...CIFAR, seed: 1.5 }), InputError);
  });

  test('width multipliers round like the reference (Python round: halves to even)', () => {
    assert.equal(baseChannels(1), 16);
    assert.equal(baseChannels(4), 64);
    assert.equal(baseChannels(0.15625), 2); // 2.5 → 2
    assert.equal(baseChannels(0.09375), 2); // 1.5 → 2
    assert.equal(baseChannels(0.1), 2); // 1.6 → 2
  });
});
