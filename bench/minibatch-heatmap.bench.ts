/**
 * `npm run bench`: an all-pairs minibatch CKA heatmap (linear kernel, Nguyen et al. 2021) from
 * activation files, timed against the vectorized NumPy float64 reference
 * (bench/reference_minibatch_cka.py) on the same files in the same run.
 *
 *   npm run bench                         40 × 40 layers, 10 batches of 256 (cpu: a reduced problem)
 *   npm run bench -- --quick              a small smoke problem (< 1 minute)
 *   npm run bench -- --backend onnx-cpu   one backend only (onnx-cuda, …, wasm, cpu, …)
 *
 * The engines: ONNX Runtime (`OnnxGramEngine`, one child per execution provider: onnx-cuda,
 * onnx-dml, onnx-coreml, onnx-cpu; onnx-tensorrt with REPSIM_TENSORRT=1; a provider that
 * cannot run here is reported as skipped, with why), and TensorFlow.js (each backend in-process,
 * and the single-threaded ones also over a pool of worker threads).
 *
 * The parent process generates the data once (bench/.data/, git-ignored), runs the NumPy
 * reference, and starts one child process per backend and engine: TensorFlow.js picks its
 * backend once per process, and a fresh process gives each run its own peak RSS. Only the
 * compute is timed (files are read first), after an untimed warm-up batch. Each in-process
 * child also measures its gram rate by width (n = 256, d = 512 … 16,384; ONNX Runtime with 1
 * thread and with all cores), printed in the summary beside NumPy's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import {
  BACKEND_CANDIDATES,
  ONNX_BACKEND_NAMES,
  TFJS_BACKEND_NAMES,
  currentOnnxRuntime,
  initBackend,
  isBackendName,
  isTfjsBackendName,
  type BackendName,
  type OnnxBackendName,
} from '../src/engine/backend/index.js';
import { readActivationFile } from '../src/engine/io/files.js';
import { GraphBuilder } from '../src/engine/onnx/graph.js';
import type { OnnxRuntime } from '../src/engine/onnx/runtime.js';
import { OnnxGramEngine } from '../src/engine/onnx/similarity/onnxGramEngine.js';
import { permutedCrossCost } from '../src/engine/similarity/permutedCross.js';
import {
  ckaMatrix,
  gramFlops,
  InProcessGramEngine,
  LINEAR,
  WorkerPoolGramEngine,
  type CkaMatrixOutput,
  type GramEngine,
  type LayerActivations,
} from '../src/engine/similarity/index.js';
import { BackgroundLoad, cpuModel, formatCores, isContended, leastDisturbed, reportFailures, runMain, shouldRetry, waitForQuiet } from './harness.js';

const BENCH_DIR = __dirname;
const DATA_ROOT = join(BENCH_DIR, '.data');
const REFERENCE_SCRIPT = join(BENCH_DIR, 'reference_minibatch_cka.py');
const PYTHON = process.env.REPSIM_PYTHON ?? 'python3';
const RESULT_MARKER = '@@repsim-bench-result ';
const TOLERANCE = 1e-4;
const WORKER_THREADS = 2;
/** Other processes' CPU use below which the machine counts as quiet; and how long to wait for it. */
const QUIET_CORES = 0.15;
const QUIET_WAIT_SECONDS = { rate: 5, timed: 15 };
/** Other processes' average CPU use during a timed section above which it is flagged (and retried). */
const CONTENDED_CORES = 0.25;
/** Extra timed attempts when the first was disturbed, within a time budget for the whole run. */
const MAX_RETRIES = 2;
const RETRY_BUDGET_SECONDS = { full: 420, quick: 40 };
/** The gram whose rate defines each run's limit: n × d times d × n. */
const RATE_SHAPE: readonly [number, number] = [256, 4096];
/** The gram rate by width: n × d grams for each d (best of several runs). */
const WIDTH_RATE_ROWS = 256;
const WIDTH_RATE_COLS = [512, 2048, 4096, 8192, 16384] as const;
/** OpenBLAS pins that some environments set (Haswell kernels, a fixed L2 size); NumPy runs without them. */
const OPENBLAS_PINS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

// --- The problem ------------------------------------------------------------------------------

/** One synthetic layer, as the Python generator makes it. */
interface LayerSpec {
  readonly name: string;
  /** Feature axes after the example axis (NHWC for conv layers). */
  readonly shape: readonly number[];
  readonly relu: boolean;
  /** 0 → 1 through the network: which shared latent blocks the layer mixes. */
  readonly depth: number;
  readonly noise: number;
  /** Weight of the layer's private latent block (lowers its CKA with every other layer). */
  readonly private: number;
}

interface DataSpec {
  readonly version: number;
  readonly examples: number;
  readonly seed: number;
  readonly rank: number;
  readonly factors: number;
  readonly spread: number;
  readonly models: { readonly a: readonly LayerSpec[]; readonly b: readonly LayerSpec[] };
}

/** A run's slice of the data: which layers, and the first `batches` batches of `batchSize`. */
interface Problem {
  readonly label: string;
  readonly dataDir: string;
  readonly layersA: readonly number[];
  readonly layersB: readonly number[];
  readonly batchSize: number;
  readonly batches: number;
}

interface BenchMode {
  readonly name: 'full' | 'quick';
  readonly data: DataSpec;
  readonly problem: Problem;
  /** The cpu backend (≈0.3–0.7 GFLOP/s) gets this smaller slice, with its own NumPy baseline. */
  readonly cpuProblem: Problem;
}

/** A ResNet-like stack: stages of equal width, pre-activations alternating with post-ReLU outputs. */
function stackOf(stages: readonly { stage: string; shape: readonly number[]; count: number }[], model: 'a' | 'b'): LayerSpec[] {
  const total = stages.reduce((sum, s) => sum + s.count, 0);
  const layers: LayerSpec[] = [];
  for (const { stage, shape, count } of stages) {
    for (let i = 0; i < count; i++) {
      const index = layers.length;
      const depth = index / Math.max(total - 1, 1);
      layers.push({
        name: `${stage}.${i >> 1}.${i % 2 ? 'relu' : 'pre'}`,
        shape,
        relu: i % 2 === 1,
        // Model B is another network on the same task: its representations drift at another pace.
        depth: model === 'a' ? depth : depth ** 0.8,
        noise: 0.5 + (1.5 * ((index * 7) % 10)) / 9,
        private: 0.3 + (0.6 * ((index * 3 + (model === 'b' ? 2 : 0)) % 5)) / 4,
      });
    }
  }
  return layers;
}

const FULL_STAGES = [
  { stage: 'stage1', shape: [32, 32, 16], count: 4 }, // 16,384
  { stage: 'stage2', shape: [16, 16, 32], count: 6 }, // 8,192
  { stage: 'stage3', shape: [8, 8, 64], count: 8 }, // 4,096
  { stage: 'stage4', shape: [4, 4, 128], count: 8 }, // 2,048
  { stage: 'stage5', shape: [2, 2, 256], count: 6 }, // 1,024
  { stage: 'fc', shape: [512], count: 6 },
  { stage: 'head', shape: [64], count: 2 },
];
/** One layer of each of these widths for the cpu backend's reduced problem. */
const CPU_WIDTHS = [8192, 4096, 2048, 1024, 512, 64];

const QUICK_STAGES = [
  { stage: 'stage1', shape: [8, 8, 32], count: 2 }, // 2,048
  { stage: 'stage2', shape: [4, 4, 64], count: 2 }, // 1,024
  { stage: 'fc', shape: [256], count: 1 },
  { stage: 'head', shape: [64], count: 1 },
];

function dataSpec(examples: number, stages: typeof FULL_STAGES): DataSpec {
  return { version: 1, examples, seed: 20261123, rank: 16, factors: 6, spread: 0.2, models: { a: stackOf(stages, 'a'), b: stackOf(stages, 'b') } };
}

const widthOf = (layer: LayerSpec): number => layer.shape.reduce((a, b) => a * b, 1);
const allIndices = (layers: readonly LayerSpec[]): number[] => layers.map((_, i) => i);
const firstOfEachWidth = (layers: readonly LayerSpec[], widths: readonly number[]): number[] =>
  widths.map((width) => layers.findIndex((l) => widthOf(l) === width));

function benchMode(quick: boolean): BenchMode {
  if (quick) {
    const data = dataSpec(512, QUICK_STAGES);
    const problem: Problem = { label: 'quick', dataDir: join(DATA_ROOT, 'quick'), layersA: allIndices(data.models.a), layersB: allIndices(data.models.b), batchSize: 128, batches: 4 };
    return { name: 'quick', data, problem, cpuProblem: problem };
  }
  const data = dataSpec(2560, FULL_STAGES);
  const dataDir = join(DATA_ROOT, 'full');
  return {
    name: 'full',
    data,
    problem: { label: 'full', dataDir, layersA: allIndices(data.models.a), layersB: allIndices(data.models.b), batchSize: 256, batches: 10 },
    cpuProblem: {
      label: 'reduced (cpu)',
      dataDir,
      layersA: firstOfEachWidth(data.models.a, CPU_WIDTHS),
      layersB: firstOfEachWidth(data.models.b, CPU_WIDTHS),
      batchSize: 256,
      batches: 2,
    },
  };
}

/** FLOPs of a run (multiply-adds count 2): grams dominate; the rest is listed for scale. */
interface FlopModel {
  readonly grams: number;
  readonly crossHsic: number;
  readonly selfHsic: number;
  readonly total: number;
  /** Memory-bound O(n·d) and O(n²) passes, not in `total`: feature centring, U-centring. */
  readonly elementwise: number;
}

function flopModel(problem: Problem, data: DataSpec): FlopModel {
  const widthsA = problem.layersA.map((i) => widthOf(data.models.a[i]));
  const widthsB = problem.layersB.map((i) => widthOf(data.models.b[i]));
  const n = problem.batchSize;
  const layerCount = widthsA.length + widthsB.length;
  const grams = gramFlops([...widthsA, ...widthsB], n, problem.batches);
  const crossHsic = problem.batches * 2 * n * n * widthsA.length * widthsB.length;
  const selfHsic = problem.batches * 2 * n * n * layerCount;
  const featureCount = [...widthsA, ...widthsB].reduce((a, b) => a + b, 0);
  const elementwise = problem.batches * (2 * n * featureCount + 6 * n * n * layerCount);
  return { grams, crossHsic, selfHsic, total: grams + crossHsic + selfHsic, elementwise };
}

// --- Data -------------------------------------------------------------------------------------

interface ManifestEntry {
  readonly name: string;
  readonly file: string;
  readonly shape: readonly number[];
}

interface Manifest {
  readonly spec: DataSpec;
  readonly a: readonly ManifestEntry[];
  readonly b: readonly ManifestEntry[];
}

function readManifest(dataDir: string): Manifest | null {
  const path = join(dataDir, 'manifest.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Manifest) : null;
}

/** Generates the files unless a complete set for this very spec is already there. */
function ensureData(mode: BenchMode): Manifest {
  const dataDir = mode.problem.dataDir;
  const existing = readManifest(dataDir);
  if (existing && JSON.stringify(existing.spec) === JSON.stringify(mode.data)) {
    log(`data: reusing ${dataDir}`);
    return existing;
  }
  log(`data: generating ${describeBytes(dataBytes(mode.data))} of float32 activations into ${dataDir} …`);
  rmSync(dataDir, { recursive: true, force: true }); // files of an older spec may have other names
  mkdirSync(dataDir, { recursive: true });
  const started = performance.now();
  runPython(['generate', '--spec', JSON.stringify(mode.data), '--out', dataDir]);
  log(`data: generated in ${seconds((performance.now() - started) / 1000)}`);
  const manifest = readManifest(dataDir);
  if (!manifest) throw new Error(`the generator wrote no manifest into ${dataDir}`);
  return manifest;
}

function dataBytes(spec: DataSpec, indices?: { a: readonly number[]; b: readonly number[] }): number {
  const bytesOf = (layers: readonly LayerSpec[], chosen: readonly number[]) => chosen.reduce((sum, i) => sum + widthOf(layers[i]) * spec.examples * 4, 0);
  const { a, b } = indices ?? { a: allIndices(spec.models.a), b: allIndices(spec.models.b) };
  return bytesOf(spec.models.a, a) + bytesOf(spec.models.b, b);
}

/** Reads the chosen layers (all examples) through RepSim's own .npy reader. */
async function loadLayers(dataDir: string, entries: readonly ManifestEntry[], indices: readonly number[]): Promise<LayerActivations[]> {
  const layers: LayerActivations[] = [];
  for (const index of indices) {
    const [{ array }] = await readActivationFile(join(dataDir, entries[index].file));
    if (!(array.data instanceof Float32Array)) throw new Error(`${entries[index].file}: expected float32 data`);
    layers.push({ name: entries[index].name, shape: array.shape, data: array.data });
  }
  return layers;
}

/** The first `examples` rows of a layer, as a view. */
function firstExamples(layer: LayerActivations, examples: number): LayerActivations {
  const perExample = layer.data.length / layer.shape[0];
  return { name: layer.name, shape: [examples, ...layer.shape.slice(1)], data: layer.data.subarray(0, examples * perExample) };
}

// --- Measurements -----------------------------------------------------------------------------

interface RateMeasure {
  readonly shape: readonly [number, number];
  readonly threads: number;
  readonly seconds: number;
  readonly flopsPerSecond: number;
}

/** X·Xᵀ as the engine computes it (explicit transpose), repeated for at least `minSeconds`. */
function measureGramRate(rows: number, cols: number, minSeconds = 0.5): RateMeasure {
  const x = tf.randomNormal([rows, cols], 0, 1, 'float32') as tf.Tensor2D;
  const once = () => {
    const gram = tf.tidy(() => tf.matMul(x, tf.transpose(x)));
    gram.dataSync();
    gram.dispose();
  };
  once();
  let reps = 0;
  const started = performance.now();
  while (reps < 2 || performance.now() - started < minSeconds * 1000) {
    once();
    reps++;
  }
  x.dispose();
  const perGram = (performance.now() - started) / 1000 / reps;
  return { shape: [rows, cols], threads: 1, seconds: perGram, flopsPerSecond: (2 * rows * rows * cols) / perGram };
}

/** The fastest of at least `minRuns` timed calls (and at least `minSeconds` in all), after two untimed ones. */
async function bestOf(once: () => unknown, minRuns: number, minSeconds: number): Promise<number> {
  await once();
  await once();
  let best = Infinity;
  let runs = 0;
  const started = performance.now();
  while (runs < minRuns || performance.now() - started < minSeconds * 1000) {
    const t = performance.now();
    await once();
    best = Math.min(best, (performance.now() - t) / 1000);
    runs++;
  }
  return best;
}

const rateOf = (rows: number, cols: number, threads: number, seconds: number): RateMeasure => ({ shape: [rows, cols], threads, seconds, flopsPerSecond: (2 * rows * rows * cols) / seconds });

function randomFloats(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (state >>> 0) / 2 ** 32 - 0.5;
  }
  return out;
}

/** X·Xᵀ on TensorFlow.js (as `measureGramRate`), the best of several runs. */
async function measureTfjsGramBest(rows: number, cols: number, minRuns: number, minSeconds: number): Promise<RateMeasure> {
  const x = tf.randomNormal([rows, cols], 0, 1, 'float32') as tf.Tensor2D;
  const seconds = await bestOf(
    () => {
      const gram = tf.tidy(() => tf.matMul(x, tf.transpose(x)));
      gram.dataSync();
      gram.dispose();
    },
    minRuns,
    minSeconds,
  );
  x.dispose();
  return rateOf(rows, cols, 1, seconds);
}

/**
 * X·Xᵀ on ONNX Runtime: a one-node graph, Gemm(X, X, transB = 1), with the runtime's intra-op
 * threads; each run wraps the input in a tensor and reads the gram back, as the engine does.
 * The best of several runs.
 */
async function measureOrtGramRate(runtime: OnnxRuntime, rows: number, cols: number, minRuns: number, minSeconds: number): Promise<RateMeasure> {
  const g = new GraphBuilder('bench_gram');
  const x = g.input('x', 'float32', [rows, cols]);
  const gram = g.op('Gemm', [x, x], { transB: 1 });
  g.output(gram, 'float32', [rows, rows]);
  const bytes = g.encode();
  const session = await runtime.session(`bench-gram|${rows}x${cols}`, () => bytes);
  const data = randomFloats(rows * cols);
  const seconds = await bestOf(
    async () => {
      const out = await session.run({ [x]: runtime.tensor(data, [rows, cols]) });
      if ((out[gram].data as Float32Array).length !== rows * rows) throw new Error('the gram graph returned a wrong shape');
    },
    minRuns,
    minSeconds,
  );
  return rateOf(rows, cols, runtime.report.threads, seconds);
}

/** One engine's gram rate at each of WIDTH_RATE_COLS (n = WIDTH_RATE_ROWS). */
interface WidthRates {
  readonly engine: string;
  readonly threads: number;
  readonly rates: readonly RateMeasure[];
  /** Other processes' CPU use while these were measured, in cores. */
  readonly backgroundCores: number | null;
}

async function measureWidthRates(engine: string, threads: number, measure: (cols: number) => Promise<RateMeasure>): Promise<WidthRates> {
  await waitForQuiet(QUIET_WAIT_SECONDS.rate, QUIET_CORES);
  const load = new BackgroundLoad();
  const rates: RateMeasure[] = [];
  for (const cols of WIDTH_RATE_COLS) rates.push(await measure(cols));
  return { engine, threads, rates, backgroundCores: load.cores() };
}

/** The same gram loop in `threads` worker threads at once: the rate the gram worker pool can reach. */
const CONCURRENT_RATE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const tf = require(workerData.core);
require(workerData.backendPackage);
(async () => {
  await tf.setBackend(workerData.tfjsName);
  await tf.ready();
  const x = tf.randomNormal([workerData.rows, workerData.cols]);
  const once = () => { const g = tf.tidy(() => tf.matMul(x, tf.transpose(x))); g.dataSync(); g.dispose(); };
  once();
  parentPort.postMessage('ready');
  parentPort.once('message', () => {
    const started = performance.now();
    for (let i = 0; i < workerData.reps; i++) once();
    parentPort.postMessage((performance.now() - started) / 1000);
  });
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

async function measureConcurrentGramRate(backend: BackendName, threads: number, rows: number, cols: number, reps: number): Promise<RateMeasure> {
  const candidate = BACKEND_CANDIDATES.find((c) => c.name === backend)!;
  const workerData = { core: require.resolve('@tensorflow/tfjs-core'), backendPackage: require.resolve(candidate.packageName), tfjsName: candidate.tfjsName, rows, cols, reps };
  const workers = Array.from({ length: threads }, () => new Worker(CONCURRENT_RATE_WORKER, { eval: true, workerData }));
  const next = (worker: Worker) =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  try {
    await Promise.all(workers.map(next));
    const finished = workers.map(next);
    workers.forEach((w) => w.postMessage('go'));
    const elapsed = (await Promise.all(finished)).map((value) => {
      if (typeof value !== 'number') throw new Error(`rate worker failed: ${JSON.stringify(value)}`);
      return value;
    });
    const slowest = Math.max(...elapsed);
    return { shape: [rows, cols], threads, seconds: slowest / reps, flopsPerSecond: (threads * reps * 2 * rows * rows * cols) / slowest };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function wasmHeapBytes(): number | null {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return wasm?.HEAPU8?.byteLength ?? null;
}

// --- Child process: one backend, one engine ---------------------------------------------------

/** TF.js in this thread, TF.js over worker threads, or ONNX Runtime (`OnnxGramEngine`). */
type EngineKind = 'in-process' | 'workers' | 'onnx';
/** What `--backend` takes here: a TF.js backend, or an ONNX Runtime provider (`onnx-cpu`, …). */
type BenchBackend = BackendName | OnnxBackendName;

interface ChildRequest {
  readonly backend: BenchBackend;
  readonly engine: EngineKind;
  readonly problem: Problem;
  /** Epoch ms after which a disturbed timed section is not run again. */
  readonly retryDeadline: number;
  /** Fewer repetitions for the gram rates by width. */
  readonly quick: boolean;
}

/** Where a timed run's time went, summed over its batches (seconds). */
interface TimeSplit {
  /** `engine.grams` calls (both models). */
  readonly grams: number;
  /** `engine.batchHsic` calls (absent on the TF.js engines: then inside `outside`). */
  readonly hsic: number;
  /** The rest of each batch: batch slicing, HSIC on TF.js, the accumulator (ckaMatrix). */
  readonly outside: number;
  /** ONNX Runtime only: wrapping inputs in tensors, and `session.run` (compute, output copies) of the gram and HSIC graphs. */
  readonly ort: { readonly tensors: number; readonly gramRuns: number; readonly hsicRuns: number } | null;
}

/** Running totals for a `TimeSplit`. */
class SplitTimer {
  grams = 0;
  hsic = 0;
  tensors = 0;
  gramRuns = 0;
  hsicRuns = 0;

  reset(): void {
    this.grams = this.hsic = this.tensors = this.gramRuns = this.hsicRuns = 0;
  }

  split(totalSeconds: number, ort: boolean): TimeSplit {
    return {
      grams: this.grams,
      hsic: this.hsic,
      outside: totalSeconds - this.grams - this.hsic,
      ort: ort ? { tensors: this.tensors, gramRuns: this.gramRuns, hsicRuns: this.hsicRuns } : null,
    };
  }
}

/** The engine with its `grams` and `batchHsic` calls timed, and its permutation-test products passed through. */
function timedEngine(inner: GramEngine, timer: SplitTimer): GramEngine {
  const batchHsic = inner.batchHsic?.bind(inner);
  return {
    description: inner.description,
    async grams(...args) {
      const started = performance.now();
      try {
        return await inner.grams(...args);
      } finally {
        timer.grams += (performance.now() - started) / 1000;
      }
    },
    ...(batchHsic && {
      async batchHsic(...args: Parameters<typeof batchHsic>) {
        const started = performance.now();
        try {
          return await batchHsic(...args);
        } finally {
          timer.hsic += (performance.now() - started) / 1000;
        }
      },
    }),
    // The permutation test's products on the engine's own runtime (untimed: its run is timed whole).
    ...(inner.permutationKernels && { permutationKernels: inner.permutationKernels }),
    close: () => inner.close(),
  };
}

/**
 * The runtime with its tensor wrapping and its sessions' `run` calls timed (grams vs HSIC by
 * session key). Wraps whatever `session` / `sessionWith` return (a session, or `{ session, … }`).
 */
function timedRuntime(runtime: OnnxRuntime, timer: SplitTimer): OnnxRuntime {
  type Session = Awaited<ReturnType<OnnxRuntime['session']>>;
  const wrapped = new WeakMap<Session, Session>();
  const wrapSession = (session: Session, hsic: boolean): Session => {
    let proxy = wrapped.get(session);
    if (!proxy) {
      proxy = new Proxy(session, {
        get(s, p) {
          const value = Reflect.get(s, p, s) as unknown;
          if (typeof value !== 'function') return value;
          if (p !== 'run') return value.bind(s);
          return async (...args: unknown[]) => {
            const started = performance.now();
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(s, args);
            } finally {
              const elapsed = (performance.now() - started) / 1000;
              if (hsic) timer.hsicRuns += elapsed;
              else timer.gramRuns += elapsed;
            }
          };
        },
      });
      wrapped.set(session, proxy);
    }
    return proxy;
  };
  const wrapResult = (result: unknown, hsic: boolean): unknown => {
    const value = result as { run?: unknown; session?: Session };
    if (typeof value?.run === 'function') return wrapSession(result as Session, hsic);
    if (value?.session) return { ...value, session: wrapSession(value.session, hsic) };
    return result;
  };
  return new Proxy(runtime, {
    get(target, property, receiver) {
      if (property === 'tensor') {
        return (data: Float32Array, dims: readonly number[]) => {
          const started = performance.now();
          const tensor = target.tensor(data, dims);
          timer.tensors += (performance.now() - started) / 1000;
          return tensor;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      if ((property === 'session' || property === 'sessionWith') && typeof value === 'function') {
        // Called on the target, so that one entry point calling the other is counted once.
        return async (key: string, ...rest: unknown[]) => wrapResult(await (value as (...a: unknown[]) => Promise<unknown>).apply(target, [key, ...rest]), key.startsWith('hsic'));
      }
      return value;
    },
  });
}

/** One timed run of the whole problem, with the gram rates measured just before it. */
interface Attempt {
  readonly rate: RateMeasure;
  readonly rateThreads: RateMeasure | null;
  readonly seconds: number;
  readonly batchSeconds: readonly number[];
  readonly backgroundCores: number | null;
  readonly quietWaitSeconds: number;
  readonly startedBusy: boolean;
  readonly split: TimeSplit;
  readonly output: CkaMatrixOutput;
}

interface RepSimResult {
  readonly available: true;
  readonly backend: BenchBackend;
  readonly engine: EngineKind;
  readonly engineDescription: string;
  readonly rate: RateMeasure;
  readonly rateWidest: RateMeasure | null;
  readonly rateThreads: RateMeasure | null;
  readonly loadSeconds: number;
  readonly engineStartSeconds: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** Each batch's time within `seconds` (the median resists bursts of load from other processes). */
  readonly batchSeconds: readonly number[];
  /** Where the kept attempt's time went. */
  readonly split: TimeSplit;
  readonly backgroundCores: number | null;
  /** Seconds spent waiting for a quiet machine, and whether a wait gave up. */
  readonly quietWaitSeconds: number;
  readonly startedBusy: boolean;
  /** Every timed attempt (the kept one is the least disturbed). */
  readonly attempts: readonly { readonly seconds: number; readonly backgroundCores: number | null }[];
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  readonly matrix: readonly (readonly (number | null)[])[];
  readonly peakRssBytes: number;
  /** tfjs engine bytes at the peak of one profiled batch (this thread), and what is left after. */
  readonly tfPeakBytes: number;
  readonly tfAfter: { readonly numTensors: number; readonly numBytes: number };
  readonly wasmHeapBytes: number | null;
  /** This engine's gram rate by width (in-process engines; none for the slow cpu backend). */
  readonly widthRates: readonly WidthRates[];
  /** The same run with the permutation test (PERMUTATIONS per cell, every cell), timed once after the kept attempt. */
  readonly permutationSeconds: number | null;
  /** Its background load (other processes' cores), as for the attempts. */
  readonly permutationBackgroundCores: number | null;
}

type ChildResult = RepSimResult | { readonly available: false; readonly backend: BenchBackend; readonly reason: string };

async function runChild(request: ChildRequest): Promise<ChildResult> {
  const { backend, engine: engineKind, problem } = request;
  try {
    await initBackend(backend);
  } catch (error) {
    return { available: false, backend, reason: (error as Error).message };
  }
  const runtime = engineKind === 'onnx' ? currentOnnxRuntime() : null;
  if (engineKind === 'onnx' && !runtime) return { available: false, backend, reason: 'ONNX Runtime did not start' };
  const rateRepeats = request.quick ? { runs: 3, seconds: 0.1 } : { runs: 10, seconds: 0.3 };
  const manifest = readManifest(problem.dataDir);
  if (!manifest) throw new Error(`no data in ${problem.dataDir}`);
  const widest = Math.max(...[...problem.layersA.map((i) => manifest.a[i]), ...problem.layersB.map((i) => manifest.b[i])].map((e) => e.shape.slice(1).reduce((a, b) => a * b, 1)));
  const rateWidest =
    widest === RATE_SHAPE[1] || engineKind === 'workers'
      ? null
      : runtime
        ? await measureOrtGramRate(runtime, problem.batchSize, widest, rateRepeats.runs, rateRepeats.seconds)
        : measureGramRate(problem.batchSize, widest);

  let started = performance.now();
  const examples = problem.batchSize * problem.batches;
  const layersA = (await loadLayers(problem.dataDir, manifest.a, problem.layersA)).map((l) => firstExamples(l, examples));
  const layersB = (await loadLayers(problem.dataDir, manifest.b, problem.layersB)).map((l) => firstExamples(l, examples));
  const loadSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const timer = new SplitTimer();
  const engine: GramEngine = timedEngine(
    runtime
      ? new OnnxGramEngine(timedRuntime(runtime, timer))
      : engineKind === 'workers'
        ? await WorkerPoolGramEngine.start(backend as BackendName, WORKER_THREADS)
        : new InProcessGramEngine(),
    timer,
  );
  const engineStartSeconds = (performance.now() - started) / 1000;
  const options = { kernel: LINEAR, estimator: 'minibatch' as const, batchSize: problem.batchSize, passes: 1, seed: 0, engine };
  try {
    // Warm-up: the first batch, untimed (backend kernels, wasm heap growth, worker start-up);
    // profiled, which gives tfjs's peak bytes over one batch.
    started = performance.now();
    const firstBatch = (layers: LayerActivations[]) => layers.map((l) => firstExamples(l, problem.batchSize));
    const checkErrors = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
    const profile = await tf.profile(async () => void (await ckaMatrix(firstBatch(layersA), firstBatch(layersB), options)));
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', checkErrors);
    const warmupSeconds = (performance.now() - started) / 1000;

    // Timed attempts: another one (rates measured afresh) while other processes disturbed the
    // last and the retry deadline allows; the least disturbed attempt is kept.
    const attempts: Attempt[] = [];
    for (;;) {
      const waits = [await waitForQuiet(QUIET_WAIT_SECONDS.rate, QUIET_CORES)];
      const rate = runtime ? await measureOrtGramRate(runtime, ...RATE_SHAPE, rateRepeats.runs, rateRepeats.seconds) : measureGramRate(...RATE_SHAPE);
      const rateThreads =
        engineKind === 'workers' ? await measureConcurrentGramRate(backend as BackendName, WORKER_THREADS, ...RATE_SHAPE, Math.max(2, Math.ceil(0.75 / rate.seconds))) : null;
      waits.push(await waitForQuiet(QUIET_WAIT_SECONDS.timed, QUIET_CORES));
      timer.reset();
      const load = new BackgroundLoad();
      const batchSeconds: number[] = [];
      started = performance.now();
      let batchStarted = started;
      const output = await ckaMatrix(layersA, layersB, {
        ...options,
        onBatch: () => {
          const now = performance.now();
          batchSeconds.push((now - batchStarted) / 1000);
          batchStarted = now;
        },
      });
      const seconds = (performance.now() - started) / 1000;
      const attempt: Attempt = {
        rate,
        rateThreads,
        seconds,
        batchSeconds,
        backgroundCores: load.cores(),
        split: timer.split(seconds, runtime !== null),
        quietWaitSeconds: waits.reduce((sum, w) => sum + w.waitedSeconds, 0),
        startedBusy: waits.some((w) => w.busyCores !== null),
        output,
      };
      attempts.push(attempt);
      if (!shouldRetry(attempts.length, seconds, attempt.backgroundCores, { contendedCores: CONTENDED_CORES, maxRetries: MAX_RETRIES, deadline: request.retryDeadline })) break;
    }
    const kept = leastDisturbed(attempts);
    // The permutation test's cost: the same run with 100 permutations per cell, as a ratio to the run without.
    let permutationSeconds: number | null = null;
    let permutationBackgroundCores: number | null = null;
    if (engineKind !== 'workers' && backend !== 'cpu') {
      await waitForQuiet(QUIET_WAIT_SECONDS.timed, QUIET_CORES);
      const load = new BackgroundLoad();
      started = performance.now();
      await ckaMatrix(layersA, layersB, { ...options, permutations: { permutations: PERMUTATIONS, seed: 0 } });
      permutationSeconds = (performance.now() - started) / 1000;
      permutationBackgroundCores = load.cores();
    }
    const memory = tf.memory();
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;

    // The gram rate by width, per engine (after the timed run: it changes nothing there).
    const widthRates: WidthRates[] = [];
    const measureWidths = (label: string, threads: number, measure: (cols: number) => Promise<RateMeasure>) =>
      measureWidthRates(label, threads, measure).then((rates) => void widthRates.push(rates));
    if (runtime) {
      const single = runtime.withThreads(1);
      await measureWidths(`ONNX Runtime ${runtime.provider}`, 1, (cols) => measureOrtGramRate(single, WIDTH_RATE_ROWS, cols, rateRepeats.runs, rateRepeats.seconds));
      await single.close();
      if (runtime.report.threads > 1) {
        await measureWidths(`ONNX Runtime ${runtime.provider}`, runtime.report.threads, (cols) => measureOrtGramRate(runtime, WIDTH_RATE_ROWS, cols, rateRepeats.runs, rateRepeats.seconds));
      }
    } else if (engineKind === 'in-process' && backend !== 'cpu') {
      await measureWidths(`TF.js ${backend}`, 1, (cols) => measureTfjsGramBest(WIDTH_RATE_ROWS, cols, rateRepeats.runs, rateRepeats.seconds));
    }
    return {
      available: true,
      backend,
      engine: engineKind,
      engineDescription: engine.description,
      rate: kept.rate,
      rateWidest,
      rateThreads: kept.rateThreads,
      loadSeconds,
      engineStartSeconds,
      warmupSeconds,
      seconds: kept.seconds,
      batchSeconds: kept.batchSeconds,
      split: kept.split,
      backgroundCores: kept.backgroundCores,
      quietWaitSeconds: kept.quietWaitSeconds,
      startedBusy: kept.startedBusy,
      attempts: attempts.map((a) => ({ seconds: a.seconds, backgroundCores: a.backgroundCores })),
      layersA: kept.output.layersA,
      layersB: kept.output.layersB,
      matrix: kept.output.matrix,
      peakRssBytes,
      tfPeakBytes: profile.peakBytes,
      tfAfter: { numTensors: memory.numTensors, numBytes: memory.numBytes },
      wasmHeapBytes: wasmHeapBytes(),
      widthRates,
      permutationSeconds,
      permutationBackgroundCores,
    };
  } finally {
    await engine.close();
  }
}

function spawnChild(request: ChildRequest): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--child', JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      // tfjs-backend-cpu greets every thread with an advert for tfjs-node; keep the rest.
      const messages = stderr.replace(/\n?=+\nHi, looks like you are running TensorFlow\.js in Node\.js\.[^\n]*\n=+\n?/g, '').trim();
      if (messages) process.stderr.write(`${messages}\n`);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as ChildResult);
      else reject(new Error(`${request.backend}/${request.engine} child exited with code ${code}${line ? '' : ' and no result'}`));
    });
  });
}

// --- NumPy reference --------------------------------------------------------------------------

interface NumpyResult {
  readonly seconds: number;
  readonly breakdown: {
    readonly cast_center_s: number;
    readonly gram_s: number;
    readonly u_center_s: number;
    readonly hsic_s: number;
    readonly batch_s: readonly number[];
  };
  readonly layers_a: readonly string[];
  readonly layers_b: readonly string[];
  readonly cka: readonly (readonly (number | null)[])[];
  readonly rate: { readonly shape: readonly number[]; readonly seconds: number; readonly flops_per_s: number };
  readonly rate_widest: { readonly shape: readonly number[]; readonly seconds: number; readonly flops_per_s: number };
  readonly load_seconds: number;
  readonly background_cores: number | null;
  readonly quiet_wait_seconds: number;
  readonly started_busy: boolean;
  readonly attempts: readonly { readonly seconds: number; readonly background_cores: number | null }[];
  readonly peak_rss_bytes: number;
  readonly numpy: string;
  readonly blas: string;
  readonly cpu_count: number;
  readonly blas_threads_env: Record<string, string>;
}

/** This process's environment without the OpenBLAS pins, for the timed NumPy commands only. */
function unpinnedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of OPENBLAS_PINS) delete env[key];
  return env;
}

/** The pins this process has (and NumPy's commands run without), e.g. 'OPENBLAS_CORETYPE=Haswell'; 'none'. */
function describePins(): string {
  const set = OPENBLAS_PINS.filter((key) => process.env[key] !== undefined).map((key) => `${key}=${process.env[key]}`);
  return set.length ? `${set.join(', ')} removed` : 'none set';
}

function runPython(args: readonly string[], env?: NodeJS.ProcessEnv): unknown {
  const result = spawnSync(PYTHON, [REFERENCE_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * MIB, env });
  if (result.error) throw new Error(`could not run ${PYTHON}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${PYTHON} ${REFERENCE_SCRIPT} ${args[0]} exited with code ${result.status}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function runNumpy(problem: Problem, retryDeadline: number): NumpyResult {
  return runPython([
    'run',
    '--retry-until', String(retryDeadline / 1000),
    '--max-retries', String(MAX_RETRIES),
    '--contended-cores', String(CONTENDED_CORES),
    '--data', problem.dataDir,
    '--layers-a', problem.layersA.join(','),
    '--layers-b', problem.layersB.join(','),
    '--batch-size', String(problem.batchSize),
    '--batches', String(problem.batches),
  ], unpinnedEnv()) as NumpyResult;
}

/**
 * NumPy float64 x·xᵀ (OpenBLAS syrk: half the multiply-adds, counted as 2·n²·d like the rest) at
 * each width, best of several runs, with the OpenBLAS pins unset as for the timed reference; the
 * script measures other processes' CPU use itself (this process cannot see its child's).
 */
const NUMPY_WIDTH_RATES = `
import json, os, resource, sys, time
import numpy as np
rows, widths, min_runs, min_seconds = json.loads(sys.argv[1])
def busy():
    f = [int(v) for v in open('/proc/stat').readline().split()[1:9]]
    return (sum(f) - f[3] - f[4]) / os.sysconf('SC_CLK_TCK')
def own():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
threads = int(os.environ.get('OPENBLAS_NUM_THREADS') or os.environ.get('OMP_NUM_THREADS') or os.cpu_count())
busy0, own0, wall0 = busy(), own(), time.perf_counter()
rates = []
for d in widths:
    x = np.random.default_rng(0).standard_normal((rows, d))
    x @ x.T; x @ x.T
    best, runs, started = float('inf'), 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - started < min_seconds:
        t = time.perf_counter(); x @ x.T; best = min(best, time.perf_counter() - t); runs += 1
    rates.append({'shape': [rows, d], 'threads': threads, 'seconds': best, 'flopsPerSecond': 2 * rows * rows * d / best})
wall = time.perf_counter() - wall0
print(json.dumps({'rates': rates, 'background_cores': max(0.0, busy() - busy0 - (own() - own0)) / wall}))
`;

function numpyWidthRates(quick: boolean): WidthRates | string {
  const args = JSON.stringify([WIDTH_RATE_ROWS, WIDTH_RATE_COLS, quick ? 3 : 10, quick ? 0.1 : 0.3]);
  const result = spawnSync(PYTHON, ['-c', NUMPY_WIDTH_RATES, args], { encoding: 'utf8', env: unpinnedEnv() });
  if (result.status !== 0) return `${PYTHON} failed: ${(result.stderr || result.error?.message || '').trim().split('\n').pop()}`;
  const parsed = JSON.parse(result.stdout.trim().split('\n').pop()!) as { rates: RateMeasure[]; background_cores: number };
  return { engine: 'NumPy float64', threads: parsed.rates[0]?.threads ?? 0, rates: parsed.rates, backgroundCores: parsed.background_cores };
}

// --- Report -----------------------------------------------------------------------------------

interface RunReport {
  readonly problem: Problem;
  readonly flops: FlopModel;
  readonly repsim: RepSimResult;
  readonly numpy: NumpyResult;
  readonly maxAbsDiff: number;
  readonly ratio: number;
  /**
   * The same ratio from each side's fastest batch: every batch does the same work, so the
   * fastest is the one least disturbed by other processes on this shared machine.
   */
  readonly bestBatchRatio: number;
  readonly limitRatio: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const seconds = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} s`;
const gflops = (flopsPerSecond: number): string => `${(flopsPerSecond / 1e9).toFixed(flopsPerSecond < 1e10 ? 2 : 1)} GFLOP/s`;
const gflop = (flops: number): string => (flops >= 1e10 ? `${(flops / 1e9).toFixed(1)} GFLOP` : `${(flops / 1e9).toPrecision(3)} GFLOP`);
const describeBytes = (bytes: number): string => (bytes >= GIB ? `${(bytes / GIB).toFixed(2)} GiB` : `${(bytes / MIB).toFixed(0)} MiB`);
const cores = formatCores;

function log(line: string): void {
  console.log(line);
}

/** The largest |a − b| over all cells; a cell defined in one and not the other counts as ∞. */
function maxAbsDifference(a: readonly (readonly (number | null)[])[], b: readonly (readonly (number | null)[])[]): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  a.forEach((row, i) => {
    if (row.length !== b[i].length) worst = Infinity;
    row.forEach((value, j) => {
      const other = b[i][j];
      const diff = value === null || other === null ? (value === other ? 0 : Infinity) : Math.abs(value - other);
      worst = Math.max(worst, Number.isNaN(diff) ? Infinity : diff);
    });
  });
  return worst;
}

function describeProblem(problem: Problem, data: DataSpec, flops: FlopModel): string[] {
  const widths = (layers: readonly LayerSpec[], indices: readonly number[]) => {
    const counts = new Map<number, number>();
    for (const i of indices) counts.set(widthOf(layers[i]), (counts.get(widthOf(layers[i])) ?? 0) + 1);
    return [...counts].map(([width, count]) => `${count}×${width.toLocaleString('en-US')}`).join(' + ');
  };
  const examples = problem.batchSize * problem.batches;
  const bytes = (dataBytes(data, { a: problem.layersA, b: problem.layersB }) / data.examples) * examples;
  return [
    `problem ${problem.label}: ${problem.layersA.length} × ${problem.layersB.length} layers, ${problem.batches} batches of ${problem.batchSize} (${examples} examples), linear kernel, passes 1`,
    `  widths per model: ${widths(data.models.a, problem.layersA)} features`,
    `  data used: ${describeBytes(bytes)} float32 (${problem.dataDir})`,
    `  FLOP model: grams Σ_b Σ_layers 2·n²·d = ${gflop(flops.grams)}; cross HSIC 2·n²·LA·LB per batch = ${gflop(flops.crossHsic)};` +
      ` self HSIC 2·n²·(LA+LB) per batch = ${gflop(flops.selfHsic)}; total ${gflop(flops.total)}` +
      ` (+ ${gflop(flops.elementwise)} of memory-bound centring passes, not counted)`,
  ];
}

function describeRun(run: RunReport): string[] {
  const { repsim, numpy, flops } = run;
  const repsimRate = repsim.rateThreads ?? repsim.rate;
  const repsimLimit = flops.total / repsimRate.flopsPerSecond;
  const numpyLimit = flops.total / numpy.rate.flops_per_s;
  const b = numpy.breakdown;
  const cells = run.repsim.matrix.flat().filter((v): v is number => v !== null);
  const ok = run.maxAbsDiff <= TOLERANCE;
  return [
    `${repsim.backend}, ${repsim.engineDescription} — problem ${run.problem.label}`,
    `  RepSim  ${seconds(repsim.seconds).padStart(8)}   limit ${seconds(repsimLimit)} = ${gflop(flops.total)} / ${gflops(repsimRate.flopsPerSecond)}` +
      ` (${repsimRate.threads} thread${repsimRate.threads > 1 ? 's' : ''}, ${RATE_SHAPE.join('×')} gram)` +
      `   [engine start ${seconds(repsim.engineStartSeconds)}, warm-up batch ${seconds(repsim.warmupSeconds)}, file reading ${seconds(repsim.loadSeconds)}: untimed]`,
    `  NumPy   ${seconds(numpy.seconds).padStart(8)}   limit ${seconds(numpyLimit)} = ${gflop(flops.total)} / ${gflops(numpy.rate.flops_per_s)} (float64, ${numpy.cpu_count} BLAS threads)` +
      `   [cast+centre ${seconds(b.cast_center_s)}, grams ${seconds(b.gram_s)}, U-centre ${seconds(b.u_center_s)}, HSIC ${seconds(b.hsic_s)}]`,
    `  batches RepSim ${describeBatches(repsim.batchSeconds)}; NumPy ${describeBatches(numpy.breakdown.batch_s)}`,
    `  RepSim per batch (mean of ${repsim.batchSeconds.length}): ${describeSplit(repsim.split, repsim.batchSeconds.length)}`,
    `  ratio RepSim/NumPy ${run.ratio.toFixed(2)}   (best batch ${run.bestBatchRatio.toFixed(2)}; ratio of the limits ${run.limitRatio.toFixed(2)};` +
      ` RepSim at ${((100 * repsimLimit) / repsim.seconds).toFixed(0)}% of its matmul rate, NumPy at ${((100 * numpyLimit) / numpy.seconds).toFixed(0)}%)`,
    `  max |CKA_repsim − CKA_numpy| = ${run.maxAbsDiff.toExponential(2)} over ${cells.length} cells ${ok ? '≤' : '>'} ${TOLERANCE} ${ok ? 'ok' : 'FAILED'}` +
      (cells.length ? `   (CKA from ${Math.min(...cells).toFixed(3)} to ${Math.max(...cells).toFixed(3)})` : ''),
    `  memory  RepSim peak RSS ${describeBytes(repsim.peakRssBytes)}; tfjs peak ${describeBytes(repsim.tfPeakBytes)} over one batch (this thread),` +
      ` ${repsim.tfAfter.numTensors} tensors / ${repsim.tfAfter.numBytes} bytes left after` +
      `${repsim.wasmHeapBytes === null ? '' : `; wasm heap ${describeBytes(repsim.wasmHeapBytes)} (main thread)`}; NumPy peak RSS ${describeBytes(numpy.peak_rss_bytes)}`,
    `  other processes' CPU during the timed section: RepSim ${cores(repsim.backgroundCores)}, NumPy ${cores(numpy.background_cores)}` +
      `   (waited ${seconds(repsim.quietWaitSeconds)} / ${seconds(numpy.quiet_wait_seconds)} for a quiet machine${repsim.startedBusy || numpy.started_busy ? ', gave up: started busy' : ''})` +
      (contended(run) ? '   CONTENDED: these times are not representative' : ''),
    ...describePermutations(run, repsimRate.flopsPerSecond),
    `  timed attempts (kept: the least disturbed): RepSim ${describeAttempts(repsim.attempts.map((a) => [a.seconds, a.backgroundCores]))}; NumPy ${describeAttempts(numpy.attempts.map((a) => [a.seconds, a.background_cores]))}`,
  ];
}

/** Permutations per cell in the benchmark's permutation-test run (the experiments' default). */
const PERMUTATIONS = 100;

/**
 * The permutation test's cost beside the run without it: its extra time, the ratio, and its
 * limit — the test's multiply-adds by its cheaper route (permutedCrossCost: the Fourier route
 * here), 2 FLOPs each, over the measured rate.
 */
function describePermutations(run: RunReport, flopsPerSecond: number): string[] {
  const extra = run.repsim.permutationSeconds;
  if (extra === null || extra === undefined) return [];
  const { batchSize: n, batches, layersA, layersB } = run.problem;
  const flops = 2 * permutedCrossCost(layersA.length, layersB.length, n, PERMUTATIONS, undefined) * batches;
  return [
    `  with the permutation test (${PERMUTATIONS} permutations, all ${layersA.length * layersB.length} cells): ${seconds(extra)}, ` +
      `ratio ${(extra / run.repsim.seconds).toFixed(2)} to the run without; the test's own limit ${seconds(flops / flopsPerSecond)} = ${gflop(flops)} / ${gflops(flopsPerSecond)}` +
      ` (other processes: ${cores(run.repsim.permutationBackgroundCores)})`,
  ];
}

const ms = (value: number): string => `${(value * 1000).toFixed(value < 0.01 ? 2 : value < 1 ? 1 : 0)} ms`;

function describeSplit(split: TimeSplit, batches: number): string {
  const per = (value: number) => ms(value / batches);
  const ort = split.ort;
  const grams = ort
    ? `grams ${per(split.grams)} (session runs ${per(ort.gramRuns)}, input tensors ${per(ort.tensors)}, JS outputs ${per(split.grams - ort.gramRuns - ort.tensors)})`
    : `grams ${per(split.grams)}`;
  const hsic = ort ? `, HSIC ${per(split.hsic)} (session run ${per(ort.hsicRuns)}, JS stacking and float64 sums ${per(split.hsic - ort.hsicRuns)})` : '';
  return `${grams}${hsic}, outside the engine ${per(split.outside)} (batch slicing, ${ort ? '' : 'HSIC, '}accumulator)`;
}

function describeAttempts(attempts: readonly (readonly [number, number | null])[]): string {
  return attempts.map(([time, load]) => `${seconds(time)} (${cores(load)})`).join(', ');
}

function describeBatches(batchSeconds: readonly number[]): string {
  return `median ${seconds(median(batchSeconds))}, min ${seconds(Math.min(...batchSeconds))}, max ${seconds(Math.max(...batchSeconds))}`;
}

/** Another process used a noticeable share of the 2 cores while one side was timed. */
function contended(run: RunReport): boolean {
  return [run.repsim.backgroundCores, run.numpy.background_cores].some((load) => isContended(load, CONTENDED_CORES));
}

/** Gram rate by width, GFLOP/s per engine: one row per engine and thread count. */
function widthRateTable(rows: readonly WidthRates[]): string[] {
  const header = ['engine', ...WIDTH_RATE_COLS.map((d) => `d=${d}`), 'other processes', ''];
  const cells = rows.map((row) => [
    `${row.engine}, ${row.threads} thread${row.threads > 1 ? 's' : ''}`,
    ...WIDTH_RATE_COLS.map((d) => {
      const rate = row.rates.find((r) => r.shape[1] === d);
      return rate ? (rate.flopsPerSecond / 1e9).toFixed(1) : '';
    }),
    cores(row.backgroundCores),
    isContended(row.backgroundCores, CONTENDED_CORES) ? 'CONTENDED' : '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  return [
    `gram rate by width, GFLOP/s (2·n²·d per n×d gram, n = ${WIDTH_RATE_ROWS}; best of several runs; NumPy with the OpenBLAS pins unset):`,
    ...[header, ...cells].map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')),
  ];
}

function summaryTable(runs: readonly RunReport[]): string[] {
  const header = ['run', 'problem', 'RepSim', 'limit', 'NumPy', 'limit', 'ratio', 'best-batch ratio', 'limit ratio', 'max|ΔCKA|', ''];
  const rows = runs.map((run) => {
    const rate = run.repsim.rateThreads ?? run.repsim.rate;
    return [
      runLabel(run.repsim),
      run.problem.label,
      seconds(run.repsim.seconds),
      seconds(run.flops.total / rate.flopsPerSecond),
      seconds(run.numpy.seconds),
      seconds(run.flops.total / run.numpy.rate.flops_per_s),
      run.ratio.toFixed(2),
      run.bestBatchRatio.toFixed(2),
      run.limitRatio.toFixed(2),
      run.maxAbsDiff.toExponential(1),
      contended(run) ? 'CONTENDED' : '',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  return [header, ...rows].map((row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}

// --- Parent process ---------------------------------------------------------------------------

interface Options {
  readonly quick: boolean;
  readonly backends: readonly BenchBackend[];
}

/** Every engine by default: ONNX Runtime's providers (TensorRT only with REPSIM_TENSORRT=1: it builds engines for minutes), then TF.js's backends. */
function defaultBackends(): BenchBackend[] {
  const onnx = ONNX_BACKEND_NAMES.filter((name) => name !== 'onnx-tensorrt' || process.env.REPSIM_TENSORRT === '1');
  return [...onnx, ...TFJS_BACKEND_NAMES];
}

function parseOptions(argv: readonly string[]): Options {
  let quick = false;
  let backends: BenchBackend[] = defaultBackends();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--backend') {
      const name = argv[++i] ?? '';
      if (!isBackendName(name)) throw new Error(`--backend ${name}: expected one of ${[...ONNX_BACKEND_NAMES, ...TFJS_BACKEND_NAMES].join(', ')}`);
      backends = [name];
    } else throw new Error(`unknown argument '${arg}' (expected --quick, --backend NAME)`);
  }
  return { quick, backends };
}

function enginesFor(backend: BenchBackend): EngineKind[] {
  if (!isTfjsBackendName(backend)) return ['onnx'];
  return backend === 'wasm' || backend === 'cpu' ? ['in-process', 'workers'] : ['in-process'];
}

/** 'onnx-cpu, 2 threads', 'wasm in-process', 'wasm 2 workers'. */
function runLabel(result: RepSimResult): string {
  if (result.engine === 'onnx') return `${result.backend}, ${result.rate.threads} thread${result.rate.threads > 1 ? 's' : ''}`;
  return `${result.backend} ${result.engine === 'workers' ? `${WORKER_THREADS} workers` : 'in-process'}`;
}

function machineLine(): string {
  return `machine: ${cpus().length} cores, ${cpuModel()}, ${describeBytes(totalmem())} memory; Node ${process.version}, tfjs ${tf.version_core}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

async function main(): Promise<number> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    const result = await runChild(JSON.parse(process.argv[childIndex + 1]) as ChildRequest);
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
    return 0;
  }

  const options = parseOptions(process.argv.slice(2));
  const mode = benchMode(options.quick);
  const retryDeadline = Date.now() + RETRY_BUDGET_SECONDS[mode.name] * 1000;
  log(`RepSim minibatch CKA heatmap benchmark (${mode.name}) — ${new Date().toISOString()}`);
  log(machineLine());
  ensureData(mode);

  const numpyByProblem = new Map<Problem, NumpyResult>();
  const runs: RunReport[] = [];
  const failures: string[] = [];
  for (const backend of options.backends) {
    const problem = backend === 'cpu' ? mode.cpuProblem : mode.problem;
    for (const engine of enginesFor(backend)) {
      log(`\n… ${backend} ${engine}, problem ${problem.label}`);
      let result: ChildResult;
      try {
        result = await spawnChild({ backend, engine, problem, retryDeadline, quick: options.quick });
      } catch (error) {
        failures.push((error as Error).message);
        log(`  FAILED: ${(error as Error).message}`);
        continue;
      }
      if (!result.available) {
        log(`  skipped: ${result.reason}`);
        if (options.backends.length === 1) failures.push(`${backend}: ${result.reason}`);
        break;
      }
      let numpy = numpyByProblem.get(problem);
      if (!numpy) {
        log(`… NumPy float64 reference, problem ${problem.label} (OpenBLAS pins: ${describePins()})`);
        numpy = runNumpy(problem, retryDeadline);
        numpyByProblem.set(problem, numpy);
      }
      const flops = flopModel(problem, mode.data);
      const rate = result.rateThreads ?? result.rate;
      const run: RunReport = {
        problem,
        flops,
        repsim: result,
        numpy,
        maxAbsDiff: maxAbsDifference(result.matrix, numpy.cka),
        ratio: result.seconds / numpy.seconds,
        bestBatchRatio: Math.min(...result.batchSeconds) / Math.min(...numpy.breakdown.batch_s),
        limitRatio: numpy.rate.flops_per_s / rate.flopsPerSecond,
      };
      if (JSON.stringify(result.layersA) !== JSON.stringify(numpy.layers_a) || JSON.stringify(result.layersB) !== JSON.stringify(numpy.layers_b)) {
        failures.push(`${backend}/${engine}: RepSim and NumPy saw different layers`);
      }
      if (!(run.maxAbsDiff <= TOLERANCE)) failures.push(`${backend}/${engine}: max |ΔCKA| ${run.maxAbsDiff} > ${TOLERANCE}`);
      runs.push(run);
      for (const line of describeRun(run)) log(line);
    }
  }

  log('\n=== Summary ===');
  log(machineLine());
  for (const problem of new Set(runs.map((r) => r.problem))) for (const line of describeProblem(problem, mode.data, flopModel(problem, mode.data))) log(line);
  log('gram rates measured in this run (2·n²·d FLOPs per n×d gram):');
  const shape = (s: readonly number[]) => s.join('×');
  for (const [numpy, problem] of new Map(runs.map((r) => [r.numpy, r.problem]))) {
    log(
      `  NumPy float64 (${numpy.blas}, NumPy ${numpy.numpy}, ${numpy.cpu_count} threads), measured by the ${problem.label} run:` +
        ` ${shape(numpy.rate.shape)} ${gflops(numpy.rate.flops_per_s)}, ${shape(numpy.rate_widest.shape)} ${gflops(numpy.rate_widest.flops_per_s)}`,
    );
  }
  const threadsOf = (rate: RateMeasure) => `${rate.threads} thread${rate.threads > 1 ? 's' : ''}`;
  for (const { repsim } of runs) {
    const parts = [`${shape(repsim.rate.shape)} ${gflops(repsim.rate.flopsPerSecond)} (${threadsOf(repsim.rate)})`];
    if (repsim.rateWidest) parts.push(`${shape(repsim.rateWidest.shape)} ${gflops(repsim.rateWidest.flopsPerSecond)} (${threadsOf(repsim.rateWidest)})`);
    if (repsim.rateThreads) parts.push(`${shape(repsim.rateThreads.shape)} ${gflops(repsim.rateThreads.flopsPerSecond)} (${repsim.rateThreads.threads} threads at once)`);
    log(`  ${repsim.backend} float32, measured by the ${repsim.engine} run: ${parts.join(', ')}`);
  }
  const widthRates = runs.flatMap((r) => r.repsim.widthRates);
  if (widthRates.length) {
    const numpyRates = numpyWidthRates(options.quick);
    if (typeof numpyRates === 'string') log(`  NumPy gram rate by width: ${numpyRates}`);
    else widthRates.push(numpyRates);
    log('');
    for (const line of widthRateTable(widthRates)) log(line);
  }
  log('');
  for (const line of summaryTable(runs)) log(line);
  log('ratio = RepSim time / NumPy time on the same data; best-batch ratio = the same from each side\'s fastest batch (least disturbed);');
  log('limit = FLOPs / measured gram rate; limit ratio = NumPy rate / RepSim rate (the ratio if both ran at their measured gram rate).');
  if (runs.some(contended)) log(`CONTENDED: other processes used > ${CONTENDED_CORES} cores while that run was timed (see above); rerun on a quiet machine.`);
  if (runs.some((r) => r.problem !== mode.problem)) log(`The cpu backend ran the reduced problem, against its own NumPy baseline on that same data.`);

  mkdirSync(DATA_ROOT, { recursive: true });
  const record = join(DATA_ROOT, `last-run-${mode.name}.json`);
  writeFileSync(record, JSON.stringify({ date: new Date().toISOString(), machine: machineLine(), mode: mode.name, runs, failures }, null, 1));
  log(`full results: ${record}`);
  if (runs.length === 0) failures.push('no backend ran');
  return reportFailures(failures, log);
}

runMain(main);
