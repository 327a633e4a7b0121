/**
 * `npm run bench` (part 2): models on this machine's TensorFlow.js backends.
 *   - training images/s of ResNet-20 (batch 128) and forward images/s of ResNet-20 and ResNet-50,
 *   - the end-to-end time of an all-layer minibatch CKA heatmap of two ResNet-20s,
 *   - peak memory (RSS, tfjs memory()), including ResNet-152 on a batch of 256 (wasm: 4 GiB heap).
 * Each figure is printed beside its limit: the model's FLOPs over the matmul rate measured in the
 * same run, and the ratio measured/limit (1.0 = running at matmul speed).
 *
 *   node --import tsx bench/models.bench.ts [--quick] [--backend wasm|cpu]   (one backend per process)
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { compareModels, type EvaluationData } from '../src/engine/activations/index.js';
import { TFJS_BACKEND_NAMES, initBackend, isTfjsBackendName, type BackendName } from '../src/engine/backend/index.js';
import { buildModel, parseArchitecture, selectLayers } from '../src/engine/models/index.js';
import { seededRandom } from '../src/engine/random.js';
import { modelOutputKind, SgdMomentum, trainStep } from '../src/engine/train/index.js';

const quick = process.argv.includes('--quick');
const backendArg = process.argv[process.argv.indexOf('--backend') + 1];

interface Figure {
  readonly what: string;
  readonly value: string;
  readonly seconds: number;
  readonly flops: number;
}

/** Forward FLOPs of one example: 2·(output positions)·(kernel size)·(in)·(out) per conv and dense layer. */
function forwardFlops(model: tfl.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const config = layer.getConfig() as { kernelSize?: number[]; filters?: number; units?: number };
    if (!config.units && !(config.filters && config.kernelSize)) continue;
    const out = layer.outputShape as number[];
    const inShape = (layer.input as tfl.SymbolicTensor).shape;
    const channelsIn = inShape[inShape.length - 1] ?? 0;
    if (config.filters && config.kernelSize) flops += 2 * out[1] * out[2] * config.kernelSize[0] * config.kernelSize[1] * channelsIn * config.filters;
    else flops += 2 * channelsIn * config.units!;
  }
  return flops;
}

/** GFLOP/s of a plain matmul on this backend (the best of a few runs). */
async function matmulRate(size: number): Promise<number> {
  const a = tf.randomNormal([size, size]);
  const b = tf.randomNormal([size, size]);
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const start = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  tf.dispose([a, b]);
  return (2 * size ** 3) / best / 1e9;
}

function randomImages(count: number, shape: readonly number[], seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count * shape.reduce((x, y) => x * y, 1) }, () => random() * 2 - 1);
}

const peak = { rss: 0, tfBytes: 0 };
function sampleMemory(): void {
  peak.rss = Math.max(peak.rss, process.memoryUsage().rss);
  peak.tfBytes = Math.max(peak.tfBytes, tf.memory().numBytes);
}

async function timeForward(model: tfl.LayersModel, batch: number, repeats: number): Promise<number> {
  const x = tf.tensor(randomImages(batch, [32, 32, 3], 1), [batch, 32, 32, 3]);
  const run = async () => {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    sampleMemory();
    y.dispose();
  };
  await run(); // warm-up: kernels, lazy allocations
  const start = performance.now();
  for (let i = 0; i < repeats; i++) await run();
  x.dispose();
  return (performance.now() - start) / 1000 / repeats;
}

async function timeTraining(model: tfl.LayersModel, batch: number, steps: number): Promise<number> {
  const optimizer = new SgdMomentum(model.trainableWeights, { momentum: 0.9, nesterov: false, weightDecay: 5e-4, decayAllWeights: false });
  const context = { model, optimizer, exampleShape: [32, 32, 3], numClasses: 10, outputKind: modelOutputKind(model) };
  const random = seededRandom(2);
  const data = { x: randomImages(batch, [32, 32, 3], 3), labels: Array.from({ length: batch }, () => Math.floor(random() * 10)), size: batch };
  await trainStep(context, data, 0.01); // warm-up
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    await trainStep(context, data, 0.01);
    sampleMemory();
  }
  optimizer.dispose();
  return (performance.now() - start) / 1000 / steps;
}

function syntheticEvaluation(count: number): EvaluationData {
  const images = randomImages(count, [32, 32, 3], 4);
  const size = 32 * 32 * 3;
  return {
    count,
    exampleShape: [32, 32, 3],
    inputs(examples) {
      const indices = examples instanceof Uint32Array ? Array.from(examples) : Array.from({ length: examples.end - examples.start }, (_, i) => examples.start + i);
      const out = new Float32Array(indices.length * size);
      indices.forEach((index, k) => out.set(images.subarray(index * size, (index + 1) * size), k * size));
      return out;
    },
  };
}

function print(figures: Figure[], gflops: number): void {
  console.log(`  ${'figure'.padEnd(56)} ${'measured'.padStart(16)} ${'limit'.padStart(12)} ${'ratio'.padStart(7)}`);
  for (const f of figures) {
    const limit = f.flops / (gflops * 1e9);
    console.log(`  ${f.what.padEnd(56)} ${f.value.padStart(16)} ${`${limit.toFixed(3)} s`.padStart(12)} ${(f.seconds / limit).toFixed(1).padStart(7)}`);
  }
}

async function benchBackend(name: BackendName): Promise<void> {
  const report = await initBackend(name);
  const gflops = await matmulRate(quick ? 256 : 1024);
  console.log(`\nbackend ${report.name}: matmul ${gflops.toFixed(1)} GFLOP/s (the limit column is FLOPs at this rate; ratio = measured / limit)`);
  const figures: Figure[] = [];
  const slow = report.name === 'cpu';
  const resnet20 = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const flops20 = forwardFlops(resnet20);

  if (slow) {
    console.log('  ResNet-20 training: skipped on cpu (its conv gradients run minutes per batch; see BENCHMARKS.md)');
  } else {
    const trainBatch = quick ? 16 : 128;
    const trainSeconds = await timeTraining(resnet20, trainBatch, quick ? 1 : 3);
    figures.push({ what: `ResNet-20 training, batch ${trainBatch} (images/s)`, value: `${(trainBatch / trainSeconds).toFixed(1)}`, seconds: trainSeconds, flops: 3 * flops20 * trainBatch });
  }

  const forwardBatch = slow ? 8 : quick ? 16 : 256;
  const forward20 = await timeForward(resnet20, forwardBatch, slow || quick ? 1 : 3);
  figures.push({ what: `ResNet-20 forward, batch ${forwardBatch} (images/s)`, value: `${(forwardBatch / forward20).toFixed(1)}`, seconds: forward20, flops: flops20 * forwardBatch });

  if (!slow) {
    const resnet50 = buildModel(parseArchitecture('resnet-50'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    const forward50 = await timeForward(resnet50, forwardBatch, quick ? 1 : 2);
    figures.push({ what: `ResNet-50 forward, batch ${forwardBatch} (images/s)`, value: `${(forwardBatch / forward50).toFixed(1)}`, seconds: forward50, flops: forwardFlops(resnet50) * forwardBatch });
    resnet50.dispose();

    const images = quick ? 512 : 1024;
    const other = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
    const layers = selectLayers(resnet20, 'all');
    const start = performance.now();
    await compareModels({ model: resnet20, layers }, { model: other, layers: selectLayers(other, 'all') }, syntheticEvaluation(images), { batchSize: 256 }, () => sampleMemory());
    const seconds = (performance.now() - start) / 1000;
    // 2·n²·d per layer and batch, for both models.
    const gramFlops = 2 * 256 * 256 * layers.reduce((sum, name) => sum + (resnet20.getLayer(name).outputShape as number[]).slice(1).reduce((x, y) => x * y, 1), 0) * 2 * (images / 256);
    figures.push({ what: `CKA heatmap 2×ResNet-20, ${layers.length}×${layers.length} layers, ${images} images`, value: `${seconds.toFixed(2)} s`, seconds, flops: 2 * flops20 * images + gramFlops });
    other.dispose();
  }
  print(figures, gflops);

  if (!slow && !quick) {
    const resnet152 = buildModel(parseArchitecture('resnet-152'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    peak.rss = 0;
    peak.tfBytes = 0;
    const layers = selectLayers(resnet152, 'all');
    const start = performance.now();
    await compareModels({ model: resnet152, layers }, { model: resnet152, layers }, syntheticEvaluation(256), { batchSize: 256 }, () => sampleMemory());
    console.log(`  ResNet-152, all ${layers.length} layers, one batch of 256: ${((performance.now() - start) / 1000).toFixed(1)} s, peak RSS ${(peak.rss / 2 ** 30).toFixed(2)} GiB, tfjs ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MiB held after (peak sampled per batch ${(peak.tfBytes / 2 ** 30).toFixed(2)} GiB)${report.name === 'wasm' ? ' — within the 4 GiB wasm heap' : ''}`);
    resnet152.dispose();
  }
  console.log(`  peak RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(2)} GiB now, ${(peak.rss / 2 ** 30).toFixed(2)} GiB sampled`);
}

async function main(): Promise<void> {
  if (backendArg && isTfjsBackendName(backendArg)) return benchBackend(backendArg);
  console.log(`models benchmark — ${new Date().toISOString().slice(0, 10)}${quick ? ' (quick)' : ''}`);
  // One child process per backend: the backend is chosen once per process.
  for (const name of TFJS_BACKEND_NAMES) {
    const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : name === 'tensorflow' ? '@tensorflow/tfjs-node' : `@tensorflow/tfjs-backend-${name}`)})`], { stdio: 'ignore' });
    if (probe.status !== 0) {
      console.log(`\nbackend ${name}: not installed here, skipped`);
      continue;
    }
    const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--backend', name, ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  }
}

void main();
