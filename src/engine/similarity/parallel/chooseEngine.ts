/**
 * In-process or worker threads for the gram work. Native TensorFlow backends use every core
 * themselves; wasm and cpu run one thread per process in Node, so worker threads (each with
 * its own backend instance) put the other cores to work — when the job is big enough to pay
 * for starting them (each loads its own backend, a few hundred milliseconds).
 */
import { availableParallelism } from 'node:os';
import { currentOnnxRuntime, type BackendReport } from '../../backend/index.js';
import { OnnxGramEngine } from '../../onnx/similarity/onnxGramEngine.js';
import { InProcessGramEngine, type GramEngine } from '../gramEngine.js';
import { WorkerPoolGramEngine } from './workerPool.js';

/** Below this many gram FLOPs in a whole run, starting workers costs more than it saves. */
const MIN_FLOPS_FOR_WORKERS = 2e9;

export interface EngineChoice {
  /** 'auto', or a thread count (1 keeps everything in this thread). */
  readonly threads?: number | 'auto';
  /** Σ over batches and layers of 2·n²·features. */
  readonly gramFlops: number;
}

/**
 * ONNX Runtime where it runs (it uses every core itself; `threads` then sets its intra-op
 * threads through the runtime), else TensorFlow.js in this thread or in worker threads.
 */
export async function chooseGramEngine(backend: BackendReport, { threads = 'auto', gramFlops }: EngineChoice): Promise<GramEngine> {
  const onnx = backend.onnx ? currentOnnxRuntime() : null;
  if (onnx) return new OnnxGramEngine(threads === 'auto' ? onnx : onnx.withThreads(threads));
  const singleThreaded = backend.name === 'wasm' || backend.name === 'cpu';
  const count = threads === 'auto' ? (singleThreaded && gramFlops >= MIN_FLOPS_FOR_WORKERS ? availableParallelism() : 1) : threads;
  if (count <= 1) return new InProcessGramEngine();
  return WorkerPoolGramEngine.start(backend.name, count);
}

/** Gram FLOPs of an all-pairs run: each batch computes one n×n gram per layer. */
export function gramFlops(featureCounts: readonly number[], batchSize: number, batches: number): number {
  return featureCounts.reduce((sum, d) => sum + 2 * batchSize * batchSize * d, 0) * batches;
}

/** ONNX Runtime's engine where `initBackend` started it; undefined: TensorFlow.js in this thread. */
export function defaultGramEngine(): GramEngine | undefined {
  const onnx = currentOnnxRuntime();
  return onnx ? new OnnxGramEngine(onnx) : undefined;
}
