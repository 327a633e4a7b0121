/**
 * `npm run bench` (part 2): models on this machine's engines, one child process each: ONNX
 * Runtime (each execution provider that runs here: onnx-cuda, onnx-dml, onnx-coreml, onnx-cpu;
 * onnx-tensorrt with REPSIM_TENSORRT=1) and each TensorFlow.js backend.
 *   - forward images/s of ResNet-20 and ResNet-50 (batch 256) on each engine (ONNX Runtime: the
 *     TF.js model exported with `exportLayersModel`, run as one session),
 *   - training images/s of ResNet-20 (batch 128): TF.js only (training stays on TF.js),
 *   - the end-to-end time of an all-layer minibatch CKA heatmap of two ResNet-20s: on ONNX
 *     Runtime (compareModels' default: grams fused into the exported models' graphs) in the
 *     onnx-* children, on TF.js (`runtime: null`) in the TF.js children; the summary puts them
 *     side by side, with the largest difference between their CKA matrices,
 *   - peak memory (RSS, tfjs memory()), including ResNet-152 on a batch of 256 (wasm: 4 GiB heap).
 * Each figure is printed beside its limit: the model's FLOPs over the matmul rate measured on
 * the same engine in the same run (TF.js: a 1024² matmul; ONNX Runtime: a 1024³ Gemm graph), and
 * the ratio measured/limit (1.0 = running at matmul speed). Other processes' CPU use is measured
 * while each figure is timed; a figure above 0.25 cores is flagged CONTENDED.
 *
 *   node --import tsx bench/models.bench.ts [--quick] [--backend onnx-cpu|wasm|cpu|…]
 */
import { spawn, spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { compareModels, type EvaluationData } from '../src/engine/activations/index.js';
import {
  ONNX_BACKEND_NAMES,
  TFJS_BACKEND_NAMES,
  currentOnnxRuntime,
  initBackend,
  isBackendName,
  isTfjsBackendName,
  type BackendName,
  type OnnxBackendName,
} from '../src/engine/backend/index.js';
import { buildModel, parseArchitecture, selectLayers } from '../src/engine/models/index.js';
import { exportLayersModel } from '../src/engine/onnx/export/index.js';
import { GraphBuilder } from '../src/engine/onnx/graph.js';
import type { OnnxRuntime } from '../src/engine/onnx/runtime.js';
import { seededRandom } from '../src/engine/random.js';
import { modelOutputKind, SgdMomentum, trainStep } from '../src/engine/train/index.js';
import { formatCores, forwardFlops, isContended, timeLeastDisturbed, type Timed } from './harness.js';

type BenchBackend = BackendName | OnnxBackendName;

const quick = process.argv.includes('--quick');
const backendIndex = process.argv.indexOf('--backend');
const backendArg = backendIndex >= 0 ? process.argv[backendIndex + 1] : undefined;
const isChild = process.argv.includes('--child');
const RESULT_MARKER = '@@repsim-models-result ';
/** Other processes' CPU use during a figure above which it is flagged; below which the machine counts as quiet; and how long to wait for quiet. */
const CONTENDED_CORES = 0.25;
const QUIET_CORES = 0.15;
const QUIET_WAIT_SECONDS = 10;

interface Figure {
  /** Which figure, the same on every engine (for the summary). */
  readonly key: string;
  readonly what: string;
  readonly value: string;
  readonly seconds: number;
  readonly flops: number;
  /** Other processes' CPU use while it was timed, in cores. */
  readonly backgroundCores: number | null;
  /** The matmul rate its limit uses (GFLOP/s), when not the engine's (a run on fewer threads). */
  readonly gflops?: number;
  readonly rateWhat?: string;
}

interface ChildResult {
  readonly backend: BenchBackend;
  /** What ran the figures, e.g. 'ONNX Runtime cpu (2 threads)' or 'TF.js wasm'. */
  readonly engine: string;
  /** The matmul rate the limits use, GFLOP/s. */
  readonly gflops: number;
  readonly rateWhat: string;
  readonly figures: readonly Figure[];
  /** The two-ResNet-20 heatmap's CKA matrix and what computed each model. */
  readonly heatmap: { readonly matrix: readonly (readonly (number | null)[])[]; readonly engines: { readonly a: string; readonly b: string } } | null;
}

// --- Contention -------------------------------------------------------------------------------

/** Extra attempts at a disturbed figure, within a time budget for this process. */
const MAX_RETRIES = 2;
const retryDeadline = Date.now() + (quick ? 40 : 420) * 1000;

/** Times `body` on a quiet machine, again while disturbed; the least disturbed attempt (bench/harness.ts). */
function timed<T>(body: () => Promise<T>): Promise<Timed<T>> {
  return timeLeastDisturbed(body, {
    quietCores: QUIET_CORES,
    quietWaitSeconds: QUIET_WAIT_SECONDS,
    policy: { contendedCores: CONTENDED_CORES, maxRetries: MAX_RETRIES, deadline: retryDeadline },
    onDisturbed: (load) => console.log(`  (disturbed: other processes used ${formatCores(load)}; timing it again)`),
  });
}

// --- Workloads --------------------------------------------------------------------------------

/** GFLOP/s of a plain matmul on this TF.js backend (the best of a few runs). */
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

/** GFLOP/s of a one-node Gemm graph (size³) on ONNX Runtime, output read back (the best of several runs). */
async function ortMatmulRate(runtime: OnnxRuntime, size: number): Promise<number> {
  const g = new GraphBuilder('bench_gemm');
  const a = g.input('a', 'float32', [size, size]);
  const b = g.input('b', 'float32', [size, size]);
  const c = g.op('Gemm', [a, b]);
  g.output(c, 'float32', [size, size]);
  const bytes = g.encode();
  const session = await runtime.session(`bench-gemm|${size}`, () => bytes);
  const feeds = { [a]: runtime.tensor(randomImages(size, [size], 5), [size, size]), [b]: runtime.tensor(randomImages(size, [size], 6), [size, size]) };
  let best = Infinity;
  for (let i = 0; i < 10; i++) {
    const start = performance.now();
    const out = await session.run(feeds);
    if ((out[c].data as Float32Array).length !== size * size) throw new Error('the Gemm graph returned a wrong shape');
    if (i >= 2) best = Math.min(best, (performance.now() - start) / 1000);
  }
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

/** Seconds per forward pass of a batch on TF.js (the mean of `repeats` after a warm-up). */
async function timeForward(model: tfl.LayersModel, batch: number, repeats: number): Promise<{ seconds: number; backgroundCores: number | null }> {
  const x = tf.tensor(randomImages(batch, [32, 32, 3], 1), [batch, 32, 32, 3]);
  const run = async () => {
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    sampleMemory();
    y.dispose();
  };
  await run(); // warm-up: kernels, lazy allocations
  const { seconds, backgroundCores } = await timed(async () => {
    for (let i = 0; i < repeats; i++) await run();
  });
  x.dispose();
  return { seconds: seconds / repeats, backgroundCores };
}

/**
 * Seconds per forward pass of a batch on ONNX Runtime: the model exported with
 * `exportLayersModel(model, [])` and run as one session (the mean of `repeats` after a warm-up;
 * each run wraps the images in a tensor and reads the output back).
 */
async function timeOrtForward(runtime: OnnxRuntime, model: tfl.LayersModel, batch: number, repeats: number): Promise<{ seconds: number; backgroundCores: number | null }> {
  const { bytes, input, output } = exportLayersModel(model, []);
  const session = await runtime.ort.InferenceSession.create(bytes, runtime.sessionOptions());
  const images = randomImages(batch, [32, 32, 3], 1);
  const run = async () => {
    const out = await session.run({ [input]: runtime.tensor(images, [batch, 32, 32, 3]) });
    if ((out[output].data as Float32Array).length !== batch * 10) throw new Error('the exported model returned a wrong shape');
    sampleMemory();
  };
  await run(); // warm-up: ORT's first run allocates its arenas
  const { seconds, backgroundCores } = await timed(async () => {
    for (let i = 0; i < repeats; i++) await run();
  });
  await session.release();
  return { seconds: seconds / repeats, backgroundCores };
}

async function timeTraining(model: tfl.LayersModel, batch: number, steps: number): Promise<{ seconds: number; backgroundCores: number | null }> {
  const optimizer = new SgdMomentum(model.trainableWeights, { momentum: 0.9, nesterov: false, weightDecay: 5e-4, decayAllWeights: false });
  const context = { model, optimizer, exampleShape: [32, 32, 3], numClasses: 10, outputKind: modelOutputKind(model) };
  const random = seededRandom(2);
  const data = { x: randomImages(batch, [32, 32, 3], 3), labels: Array.from({ length: batch }, () => Math.floor(random() * 10)), size: batch };
  await trainStep(context, data, 0.01); // warm-up
  const { seconds, backgroundCores } = await timed(async () => {
    for (let i = 0; i < steps; i++) {
      await trainStep(context, data, 0.01);
      sampleMemory();
    }
  });
  optimizer.dispose();
  return { seconds: seconds / steps, backgroundCores };
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

// --- Output -----------------------------------------------------------------------------------

const cores = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2));
const contended = (f: Figure): boolean => isContended(f.backgroundCores, CONTENDED_CORES);

function print(figures: readonly Figure[], gflops: number): void {
  console.log(`  ${'figure'.padEnd(60)} ${'measured'.padStart(14)} ${'limit'.padStart(10)} ${'ratio'.padStart(6)} ${'other CPU'.padStart(10)}`);
  for (const f of figures) {
    const limit = f.flops / ((f.gflops ?? gflops) * 1e9);
    console.log(
      `  ${f.what.padEnd(60)} ${f.value.padStart(14)} ${`${limit.toFixed(3)} s`.padStart(10)} ${(f.seconds / limit).toFixed(1).padStart(6)} ${cores(f.backgroundCores).padStart(10)}${contended(f) ? '  CONTENDED' : ''}`,
    );
  }
}

function maxAbsDifference(a: readonly (readonly (number | null)[])[], b: readonly (readonly (number | null)[])[]): number {
  let worst = 0;
  a.forEach((row, i) =>
    row.forEach((value, j) => {
      const other = b[i]?.[j];
      const diff = value === null || other === null || other === undefined ? (value === (other ?? null) ? 0 : Infinity) : Math.abs(value - other);
      worst = Math.max(worst, Number.isNaN(diff) ? Infinity : diff);
    }),
  );
  return worst;
}

// --- Children ---------------------------------------------------------------------------------

/** The all-layer heatmap of two ResNet-20s through compareModels: its default (`runtime` undefined: ONNX Runtime where it runs), or TF.js (null). */
async function heatmapFigures(flops20: number, runtime: null | undefined, label: string): Promise<{ figures: Figure[]; heatmap: ChildResult['heatmap'] }> {
  const images = quick ? 512 : 1024;
  // Fresh models (the TF.js children trained their ResNet-20 a step): the same weights on every engine, so the matrices compare.
  const resnet20 = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const other = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  const layers = selectLayers(resnet20, 'all');
  const otherLayers = selectLayers(other, 'all');
  const compare = () =>
    compareModels({ model: resnet20, layers }, { model: other, layers: otherLayers }, syntheticEvaluation(images), { batchSize: 256, runtime, log: (m) => console.log(`  ${m}`) }, () => sampleMemory());
  // 2·n²·d per layer and batch, for both models.
  const gramFlops = 2 * 256 * 256 * layers.reduce((sum, name) => sum + (resnet20.getLayer(name).outputShape as number[]).slice(1).reduce((x, y) => x * y, 1), 0) * 2 * (images / 256);
  const flops = 2 * flops20 * images + gramFlops;
  const what = `CKA heatmap 2×ResNet-20, ${layers.length}×${otherLayers.length} layers, ${images} images`;
  const first = await timed(compare);
  const figures: Figure[] = [{ key: 'heatmap', what: `${what} (${label})`, value: `${first.seconds.toFixed(2)} s`, seconds: first.seconds, flops, backgroundCores: first.backgroundCores }];
  if (runtime === undefined) {
    // Again with the sessions cached: the first call also exports both models and builds their sessions.
    const again = await timed(compare);
    figures.push({ key: 'heatmap-warm', what: `${what} (${label}, sessions cached)`, value: `${again.seconds.toFixed(2)} s`, seconds: again.seconds, flops, backgroundCores: again.backgroundCores });
  }
  console.log(`  heatmap engines: model A ${first.result.engines.a}; model B ${first.result.engines.b}`);
  resnet20.dispose();
  other.dispose();
  return { figures, heatmap: { matrix: first.result.cka.matrix, engines: first.result.engines } };
}

async function benchOnnx(name: OnnxBackendName): Promise<ChildResult | null> {
  try {
    await initBackend(name);
  } catch (error) {
    console.log(`\nbackend ${name}: skipped: ${(error as Error).message}`);
    return null;
  }
  const runtime = currentOnnxRuntime()!;
  const threads = runtime.report.threads;
  const engine = `ONNX Runtime ${runtime.provider} (${threads} threads)`;
  const gemmSize = quick ? 256 : 1024;
  const gflops = await ortMatmulRate(runtime, gemmSize);
  console.log(`\nbackend ${name}: ${engine}; Gemm ${gemmSize}³ ${gflops.toFixed(1)} GFLOP/s (the limit column is FLOPs at this rate; ratio = measured / limit)`);
  const figures: Figure[] = [];
  const resnet20 = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const flops20 = forwardFlops(resnet20);
  const batch = quick ? 16 : 256;
  const repeats = quick ? 1 : 5;
  console.log('  ResNet-20 training: on TF.js (training stays on TF.js; see the TF.js backends)');

  const forward20 = await timeOrtForward(runtime, resnet20, batch, repeats);
  figures.push({ key: 'resnet20-forward', what: `ResNet-20 forward, batch ${batch} (images/s)`, value: (batch / forward20.seconds).toFixed(1), flops: flops20 * batch, ...forward20 });
  if (threads > 1) {
    const single = runtime.withThreads(1);
    const gflops1 = await ortMatmulRate(single, gemmSize);
    console.log(`  1 thread: Gemm ${gemmSize}³ ${gflops1.toFixed(1)} GFLOP/s (the 1-thread figure's limit)`);
    const forward1 = await timeOrtForward(single, resnet20, batch, repeats);
    await single.close();
    figures.push({ key: 'resnet20-forward-1', what: `ResNet-20 forward, batch ${batch}, 1 thread (images/s)`, value: (batch / forward1.seconds).toFixed(1), flops: flops20 * batch, ...forward1, gflops: gflops1, rateWhat: `Gemm ${gemmSize}³, 1 thread` });
  }
  const resnet50 = buildModel(parseArchitecture('resnet-50'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const forward50 = await timeOrtForward(runtime, resnet50, batch, repeats);
  figures.push({ key: 'resnet50-forward', what: `ResNet-50 forward, batch ${batch} (images/s)`, value: (batch / forward50.seconds).toFixed(1), flops: forwardFlops(resnet50) * batch, ...forward50 });
  resnet50.dispose();

  const heatmap = await heatmapFigures(flops20, undefined, 'ONNX Runtime, grams fused');
  figures.push(...heatmap.figures);
  print(figures, gflops);
  console.log(`  peak RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(2)} GiB now, ${(peak.rss / 2 ** 30).toFixed(2)} GiB sampled`);
  resnet20.dispose();
  return { backend: name, engine, gflops, rateWhat: `Gemm ${gemmSize}³`, figures, heatmap: heatmap.heatmap };
}

async function benchTfjs(name: BackendName): Promise<ChildResult> {
  const report = await initBackend(name);
  const size = quick ? 256 : 1024;
  const gflops = await matmulRate(size);
  console.log(`\nbackend ${report.name}: matmul ${gflops.toFixed(1)} GFLOP/s (the limit column is FLOPs at this rate; ratio = measured / limit)`);
  const figures: Figure[] = [];
  const slow = report.name === 'cpu';
  const resnet20 = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  const flops20 = forwardFlops(resnet20);
  let heatmap: ChildResult['heatmap'] = null;

  if (slow) {
    console.log('  ResNet-20 training: skipped on cpu (its conv gradients run minutes per batch; see BENCHMARKS.md)');
  } else {
    const trainBatch = quick ? 16 : 128;
    const train = await timeTraining(resnet20, trainBatch, quick ? 1 : 3);
    figures.push({ key: 'resnet20-train', what: `ResNet-20 training, batch ${trainBatch} (images/s)`, value: `${(trainBatch / train.seconds).toFixed(1)}`, flops: 3 * flops20 * trainBatch, ...train });
  }

  const forwardBatch = slow ? 8 : quick ? 16 : 256;
  const forward20 = await timeForward(resnet20, forwardBatch, slow || quick ? 1 : 3);
  figures.push({ key: 'resnet20-forward', what: `ResNet-20 forward, batch ${forwardBatch} (images/s)`, value: `${(forwardBatch / forward20.seconds).toFixed(1)}`, flops: flops20 * forwardBatch, ...forward20 });

  if (!slow) {
    const resnet50 = buildModel(parseArchitecture('resnet-50'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    const forward50 = await timeForward(resnet50, forwardBatch, quick ? 1 : 2);
    figures.push({ key: 'resnet50-forward', what: `ResNet-50 forward, batch ${forwardBatch} (images/s)`, value: `${(forwardBatch / forward50.seconds).toFixed(1)}`, flops: forwardFlops(resnet50) * forwardBatch, ...forward50 });
    resnet50.dispose();
    const result = await heatmapFigures(flops20, null, `TF.js ${report.name}`);
    figures.push(...result.figures);
    heatmap = result.heatmap;
  }
  print(figures, gflops);

  if (!slow && !quick) {
    const resnet152 = buildModel(parseArchitecture('resnet-152'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    peak.rss = 0;
    peak.tfBytes = 0;
    const layers = selectLayers(resnet152, 'all');
    const start = performance.now();
    await compareModels({ model: resnet152, layers }, { model: resnet152, layers }, syntheticEvaluation(256), { batchSize: 256, runtime: null }, () => sampleMemory());
    console.log(
      `  ResNet-152, all ${layers.length} layers, one batch of 256: ${((performance.now() - start) / 1000).toFixed(1)} s, peak RSS ${(peak.rss / 2 ** 30).toFixed(2)} GiB, tfjs ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MiB held after (peak sampled per batch ${(peak.tfBytes / 2 ** 30).toFixed(2)} GiB)${report.name === 'wasm' ? ' — within the 4 GiB wasm heap' : ''}`,
    );
    resnet152.dispose();
  }
  console.log(`  peak RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(2)} GiB now, ${(peak.rss / 2 ** 30).toFixed(2)} GiB sampled`);
  resnet20.dispose();
  return { backend: name, engine: `TF.js ${report.name}`, gflops, rateWhat: `matmul ${size}²`, figures, heatmap };
}

// --- Parent -----------------------------------------------------------------------------------

/** Runs this script for one backend; streams its output and returns its result (null: skipped or failed). */
function runChild(name: BenchBackend): Promise<ChildResult | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--child', '--backend', name, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let result: ChildResult | null = null;
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith(RESULT_MARKER)) result = JSON.parse(line.slice(RESULT_MARKER.length)) as ChildResult;
        else console.log(line);
      }
    });
    child.on('close', (code) => {
      if (pending) console.log(pending);
      if (code !== 0) {
        console.log(`backend ${name}: the child exited with code ${code}`);
        process.exitCode = code ?? 1;
      }
      resolve(result);
    });
  });
}

function packageFor(name: BackendName): string {
  return name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : name === 'tensorflow' ? '@tensorflow/tfjs-node' : `@tensorflow/tfjs-backend-${name}`;
}

function summary(results: readonly ChildResult[]): void {
  console.log('\n=== Summary: models per engine ===');
  const rows = results.flatMap((r) => r.figures.map((f) => ({ r, f })));
  const order = ['resnet20-forward', 'resnet20-forward-1', 'resnet50-forward', 'resnet20-train', 'heatmap', 'heatmap-warm'];
  rows.sort((x, y) => order.indexOf(x.f.key) - order.indexOf(y.f.key));
  const header = ['engine (limit rate)', 'figure', 'measured', 'limit', 'ratio', 'other CPU', ''];
  const cells = rows.map(({ r, f }) => {
    const gflops = f.gflops ?? r.gflops;
    const limit = f.flops / (gflops * 1e9);
    return [`${r.engine} (${f.rateWhat ?? r.rateWhat} ${gflops.toFixed(1)} GFLOP/s)`, f.what, f.value, `${limit.toFixed(3)} s`, (f.seconds / limit).toFixed(1), cores(f.backgroundCores), contended(f) ? 'CONTENDED' : ''];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  for (const row of [header, ...cells]) console.log(`  ${row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}`);
  const withHeatmap = results.filter((r) => r.heatmap);
  for (let i = 1; i < withHeatmap.length; i++) {
    const diff = maxAbsDifference(withHeatmap[0].heatmap!.matrix, withHeatmap[i].heatmap!.matrix);
    console.log(`  heatmap: max |ΔCKA| between ${withHeatmap[0].engine} and ${withHeatmap[i].engine}: ${diff.toExponential(2)}`);
  }
  if (rows.some(({ f }) => contended(f))) console.log(`  CONTENDED: other processes used > ${CONTENDED_CORES} cores while that figure was timed; rerun on a quiet machine.`);
}

async function main(): Promise<void> {
  if (isChild) {
    if (!backendArg || !isBackendName(backendArg)) throw new Error(`--backend ${backendArg}: expected one of ${[...ONNX_BACKEND_NAMES, ...TFJS_BACKEND_NAMES].join(', ')}`);
    const result = isTfjsBackendName(backendArg) ? await benchTfjs(backendArg) : await benchOnnx(backendArg);
    if (result) console.log(`${RESULT_MARKER}${JSON.stringify(result)}`);
    return;
  }
  if (backendArg !== undefined && !isBackendName(backendArg)) throw new Error(`--backend ${backendArg}: expected one of ${[...ONNX_BACKEND_NAMES, ...TFJS_BACKEND_NAMES].join(', ')}`);
  console.log(`models benchmark — ${new Date().toISOString()}${quick ? ' (quick)' : ''}`);
  // One child process per backend: the TF.js backend and ONNX Runtime's provider are chosen once per process.
  const onnx = ONNX_BACKEND_NAMES.filter((name) => name !== 'onnx-tensorrt' || process.env.REPSIM_TENSORRT === '1');
  const names: BenchBackend[] = backendArg ? [backendArg] : [...onnx, ...TFJS_BACKEND_NAMES];
  const results: ChildResult[] = [];
  for (const name of names) {
    if (isTfjsBackendName(name)) {
      const probe = spawnSyncProbe(packageFor(name));
      if (!probe) {
        console.log(`\nbackend ${name}: not installed here, skipped`);
        continue;
      }
    }
    const result = await runChild(name);
    if (result) results.push(result);
  }
  summary(results);
}

/** Whether the package loads, tried in a throwaway process (a native addon may crash it). */
function spawnSyncProbe(packageName: string): boolean {
  return spawnSync(process.execPath, ['-e', `require(${JSON.stringify(packageName)})`], { stdio: 'ignore' }).status === 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
