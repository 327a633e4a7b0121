/**
 * The similarity engines every reference test runs against: TensorFlow.js (the backend the test
 * run chose) and ONNX Runtime (its fastest provider here, or REPSIM_TEST_ONNX_PROVIDER: on a
 * GPU machine the CUDA provider is held to the same references).
 */
import { OnnxRuntime, type ProviderName } from '../../src/engine/onnx/runtime.js';
import { OnnxGramEngine } from '../../src/engine/onnx/similarity/onnxGramEngine.js';
import type { GramEngine } from '../../src/engine/similarity/gramEngine.js';
import { testBackend } from './backend.js';

export interface SimilarityEngineCase {
  readonly name: string;
  /** The engine to pass to ckaMatrix (undefined: the in-process TensorFlow.js default). */
  engine(): Promise<GramEngine | undefined>;
}

let runtime: Promise<OnnxRuntime> | undefined;

/** The test run's ONNX Runtime, started once. */
export function testOnnxRuntime(): Promise<OnnxRuntime> {
  const provider = (process.env.REPSIM_TEST_ONNX_PROVIDER ?? 'auto') as ProviderName | 'auto';
  runtime ??= OnnxRuntime.start({ provider });
  return runtime;
}

export const SIMILARITY_ENGINES: readonly SimilarityEngineCase[] = [
  {
    name: 'TensorFlow.js',
    engine: async () => {
      await testBackend();
      return undefined;
    },
  },
  {
    name: 'ONNX Runtime',
    engine: async () => {
      await testBackend();
      return new OnnxGramEngine(await testOnnxRuntime());
    },
  },
  {
    // The path full-data grams (over 2,048 examples) take: X·Xᵀ in the graph, RBF and centering in place.
    name: 'ONNX Runtime, grams finished in place',
    engine: async () => {
      await testBackend();
      return new OnnxGramEngine(await testOnnxRuntime(), { inGraphUpTo: 0 });
    },
  },
];
