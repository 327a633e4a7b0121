/**
 * What the full-data estimators (biased and debiased CKA: one n × n gram per layer over every
 * example) hold at their peak, counted before anything is allocated, so that a set too large
 * fails at once with a clear message instead of running out of memory midway ("memory access
 * out of bounds" in the wasm heap).
 *
 * Counted, in float32 values (n examples, d features of a layer, L layers of both models):
 *  - stored grams: L·n², kept from their computation until the cross products;
 *  - one layer's gram computation (per worker thread computing at once), beyond the gram kept:
 *    TensorFlow.js: the activations, centred, scaled and transposed copies (4·n·d) and the gram
 *    X·Xᵀ (n², 3·n² for a layer wider than 8,192 features, summed over column blocks), plus
 *    n²/2 for the RBF median's pairs; the RBF map and centering then run in place.
 *    ONNX Runtime: the input and its centred, absolute and scaled copies (5·n·d), and the linear
 *    gram and its stacked output copy (2·n²; the RBF map and centering then run in place, n²/2
 *    for the RBF median's pairs) — or, for batches small enough to finish in the graph (≤ 2,048
 *    examples), the centering's intermediates too (eye mask, hollow gram, two differences, the
 *    output and its stacked copy: 6·n² unbiased, 5·n² biased) and, for RBF, the distances, their
 *    TopK (values and int64 indices) and the exponent (7·n² more);
 *  - the cross products: row chunks of the grams (hsicChunkRows) and their two transposes, plus
 *    a copy of the chunk on its way in (4 chunks), and the per-row sums n·(LA·LB + LA + LB).
 * The TensorFlow.js wasm backend computes in a heap of at most 4 GiB per thread: its share of
 * the temporaries is checked against that too, as is the largest single array.
 */
import { totalmem } from 'node:os';
import { InputError } from '../errors.js';
import { hsicChunkRows } from './batchHsic.js';
import type { Centering } from './centeredGrams.js';
import type { KernelSpec } from './kernel.js';

const FLOAT = 4;
/** Above this many features TF.js sums the gram over column blocks (gram.ts). */
const BLOCKED_GRAM_ABOVE = 8192;
/** What the tfjs wasm heap may grow to (wasm32), and the share of it a plan may count on. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;
const WASM_USABLE_BYTES = 3 * 1024 ** 3;
/** The longest ArrayBuffer Node allocates. */
const MAX_ARRAY_BYTES = 4 * 1024 ** 3 - 1;

/** Where the grams of a full-data run are computed, as far as memory goes. */
export type GramMemoryEngine =
  | { readonly kind: 'onnx'; readonly inGraphUpTo?: number }
  | { readonly kind: 'tfjs'; readonly backend: string; readonly workers: number };

export interface FullDataMemory {
  /** Peak bytes: stored grams + the larger of the gram computation's and the cross products' temporaries. */
  readonly bytes: number;
  readonly storedBytes: number;
  readonly gramTemporaryBytes: number;
  readonly hsicTemporaryBytes: number;
  /** The most one wasm heap holds at once (TF.js on wasm only). */
  readonly wasmBytes?: number;
}

export interface FullDataShape {
  readonly examples: number;
  /** Features of each layer of A, and of B (null: B is A). */
  readonly featuresA: readonly number[];
  readonly featuresB: readonly number[] | null;
  readonly kernel: KernelSpec;
  readonly centering: Centering;
}

export function fullDataMemory(shape: FullDataShape, engine: GramMemoryEngine): FullDataMemory {
  const n = shape.examples;
  const n2 = n * n;
  const la = shape.featuresA.length;
  const lb = shape.featuresB ? shape.featuresB.length : la;
  const features = [...shape.featuresA, ...(shape.featuresB ?? [])];
  const stored = features.length * n2;
  const rbf = shape.kernel.kind === 'rbf';
  let perLayer: (d: number) => { total: number; wasm: number };
  let parallel = 1;
  if (engine.kind === 'onnx') {
    const inGraph = n <= (engine.inGraphUpTo ?? 2048);
    const grams = inGraph ? (shape.centering === 'unbiased' ? 6 : 5) + (rbf ? 7 : 0) : 2 + (rbf ? 0.5 : 0);
    perLayer = (d) => ({ total: 5 * n * d + grams * n2, wasm: 0 });
  } else {
    perLayer = (d) => {
      const tensors = 4 * n * d + (d > BLOCKED_GRAM_ABOVE ? 3 : 1) * n2;
      return { total: tensors + (rbf ? n2 / 2 : 0), wasm: engine.backend === 'wasm' ? tensors : 0 };
    };
    parallel = Math.max(1, Math.min(engine.workers, features.length));
  }
  const layerCosts = features.map(perLayer).sort((x, y) => y.total - x.total);
  const gramTemporaries = layerCosts.slice(0, parallel).reduce((sum, c) => sum + c.total, 0);
  const gramWasm = layerCosts.reduce((most, c) => Math.max(most, c.wasm), 0);
  const hsicLayers = la + (shape.featuresB ? lb : 0);
  const chunk = hsicLayers * hsicChunkRows(n, hsicLayers) * n;
  const hsicTemporaries = 4 * chunk + n * (la * lb + la + lb);
  const hsicWasm = engine.kind === 'tfjs' && engine.backend === 'wasm' ? 3 * chunk : 0;
  const bytes = (stored + Math.max(gramTemporaries, hsicTemporaries)) * FLOAT;
  return {
    bytes,
    storedBytes: stored * FLOAT,
    gramTemporaryBytes: gramTemporaries * FLOAT,
    hsicTemporaryBytes: hsicTemporaries * FLOAT,
    ...(engine.kind === 'tfjs' && engine.backend === 'wasm' ? { wasmBytes: Math.max(gramWasm, hsicWasm) * FLOAT } : {}),
  };
}

/** Half this machine's memory: what a full-data run may plan to use by default. */
export function defaultFullDataBudget(): number {
  return Math.floor(totalmem() / 2);
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * Throws an InputError suggesting the minibatch estimator when a full-data run would not fit:
 * more than `budget` bytes in all, more than a wasm heap can hold, or a gram larger than the
 * largest array.
 */
export function checkFullDataFits(shape: FullDataShape, engine: GramMemoryEngine, budgetBytes?: number, estimator = 'full-data'): FullDataMemory {
  const budget = budgetBytes ?? defaultFullDataBudget();
  const whose = budgetBytes === undefined ? "half this machine's memory" : 'the memory budget';
  const memory = fullDataMemory(shape, engine);
  const n = shape.examples;
  const advice = `use --estimator minibatch (e.g. --batch-size 256), whose grams are batchSize × batchSize`;
  const what = `${estimator} CKA over ${n} examples`;
  const layers = shape.featuresA.length + (shape.featuresB?.length ?? 0);
  if (n * n * FLOAT > MAX_ARRAY_BYTES) {
    throw new InputError(`${what} needs ${n} × ${n} gram matrices of ${gib(n * n * FLOAT)} each, larger than the largest array (4 GiB): ${advice}`, 'estimator');
  }
  if (memory.bytes > budget) {
    throw new InputError(
      `${what} needs about ${gib(memory.bytes)} (${layers} stored ${n} × ${n} grams: ${gib(memory.storedBytes)}; temporaries while computing them: ${gib(Math.max(memory.gramTemporaryBytes, memory.hsicTemporaryBytes))}), more than the ${gib(budget)} it may use (${whose}): ${advice}`,
      'estimator',
    );
  }
  if (memory.wasmBytes !== undefined && memory.wasmBytes > WASM_USABLE_BYTES) {
    throw new InputError(`${what} needs about ${gib(memory.wasmBytes)} at once in the TensorFlow.js wasm heap, which holds at most ${gib(WASM_HEAP_BYTES)}: ${advice}`, 'estimator');
  }
  return memory;
}

/** The memory engine of a run's gram engine (TF.js in this thread when unknown). */
export function memoryEngineOf(engine: { readonly memoryEngine?: GramMemoryEngine } | undefined, backend: string): GramMemoryEngine {
  return engine?.memoryEngine ?? { kind: 'tfjs', backend, workers: 1 };
}
