/** `repsim cka A.npz B.npz ...`: CKA between every layer of A and every layer of B. */
import { parseArgs } from 'node:util';
import { computeBackendName, type BackendReport } from '../../engine/backend/index.js';
import { chooseGramEngine, ckaMatrix, featureCount, gramFlops, LINEAR, plannedBatches, rbf, type CkaEstimator, type KernelSpec } from '../../engine/similarity/index.js';
import { assertSameExampleCount, loadActivations } from '../../engine/io/activationFiles.js';
import { matrixToCsv, matrixToTable, writeOutputs } from '../output.js';
import { ProgressLine } from '../progress.js';
import { parseChoice, parseNumberOption, UsageError, type CommandContext } from '../options.js';

export const CKA_USAGE = `repsim cka A.npz B.npz [options]
  CKA between every layer (array) of A and every layer of B; examples on the first axis.
  --kernel linear|rbf        kernel (default linear)
  --threshold T              RBF bandwidth: sigma^2 = T^2 * median squared distance (default 1)
  --estimator E              biased | debiased | minibatch (default minibatch)
  --batch-size N             minibatch size (default 256, or all examples if fewer)
  --passes K                 passes over the examples (default 1: consecutive batches in file
                             order; more: a seeded reshuffle per pass)
  --seed S                   seed for the reshuffles (default 0)
  --threads N                threads for the gram work: ONNX Runtime's intra-op threads, or
                             TensorFlow.js worker threads (default: auto, all cores)
  --json OUT                 write {layersA, layersB, matrix, stderr, ...} as JSON
  --csv OUT                  write the matrix as CSV (rows: layers of A)`;

export async function runCka(argv: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      kernel: { type: 'string', default: 'linear' },
      threshold: { type: 'string' },
      estimator: { type: 'string', default: 'minibatch' },
      'batch-size': { type: 'string' },
      passes: { type: 'string', default: '1' },
      seed: { type: 'string', default: '0' },
      threads: { type: 'string', default: 'auto' },
      json: { type: 'string' },
      csv: { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`cka takes two activation files, got ${positionals.length}`, undefined, 'cka');
  const [pathA, pathB] = positionals;
  const kernelName = parseChoice('--kernel', values.kernel!, ['linear', 'rbf'] as const);
  if (kernelName === 'linear' && values.threshold !== undefined) throw new UsageError('--threshold applies to --kernel rbf only', 'threshold', 'cka');
  const kernel: KernelSpec = kernelName === 'linear' ? LINEAR : rbf(parseNumberOption('--threshold', values.threshold ?? '1', { positive: true }));
  const estimator: CkaEstimator = parseChoice('--estimator', values.estimator!, ['biased', 'debiased', 'minibatch'] as const);
  const passes = parseNumberOption('--passes', values.passes!, { integer: true, min: 1 });
  const seed = parseNumberOption('--seed', values.seed!, { integer: true, min: 0 });
  const threads = values.threads === 'auto' ? 'auto' : parseNumberOption('--threads', values.threads!, { integer: true, min: 1 });
  if (estimator !== 'minibatch' && (values['batch-size'] !== undefined || passes !== 1)) {
    throw new UsageError(`--batch-size and --passes apply to --estimator minibatch; '${estimator}' uses all examples at once`, 'estimator');
  }

  const layersA = await loadActivations(pathA);
  const layersB = pathA === pathB ? layersA : await loadActivations(pathB);
  assertSameExampleCount(pathA, layersA, pathB, layersB);
  const examples = layersA[0].shape[0];
  const batchSize = values['batch-size'] !== undefined ? parseNumberOption('--batch-size', values['batch-size'], { integer: true, min: 4 }) : Math.min(256, examples);

  const backend = await context.backend();
  const batches = estimator === 'minibatch' ? plannedBatches(examples, batchSize, passes) : 1;
  const rows = estimator === 'minibatch' ? batchSize : examples;
  const features = (layersA === layersB ? layersA : [...layersA, ...layersB]).map(featureCount);
  const engine = await chooseGramEngine(backend, { threads, gramFlops: gramFlops(features, rows, batches) });
  context.log(`${describe(backend)}; grams: ${engine.description}`);

  const progress = new ProgressLine();
  const result = await ckaMatrix(layersA, layersB, {
    kernel,
    estimator,
    batchSize,
    passes,
    seed,
    engine,
    onBatch: ({ batchesDone, totalBatches }) => progress.update(batchesDone, totalBatches, 'batches'),
  }).finally(async () => {
    progress.finish();
    await engine.close();
  });
  for (const warning of result.warnings) context.warn(warning);

  const json = () =>
    `${JSON.stringify(
      {
        layersA: result.layersA,
        layersB: result.layersB,
        matrix: result.matrix,
        stderr: result.stderr,
        stderrMethod: result.stderrMethod,
        measure: 'cka',
        kernel: result.kernel,
        estimator: result.estimator,
        examples: result.examples,
        batchSize: result.batchSize,
        passes: result.passes,
        seed: result.seed,
        batches: result.batches,
        files: { a: pathA, b: pathB },
        backend: computeBackendName(backend),
        warnings: result.warnings,
      },
      null,
      1,
    )}\n`;
  await writeOutputs([
    { path: values.json, contents: json },
    { path: values.csv, contents: () => matrixToCsv(result.layersA, result.layersB, result.matrix) },
  ]);
  if (values.json === undefined && values.csv === undefined) context.print(matrixToTable(result.layersA, result.layersB, result.matrix));
}

function describe(backend: BackendReport): string {
  if (backend.onnx) {
    const skipped = backend.onnx.skipped;
    return `ONNX Runtime ${backend.onnx.provider}${skipped.length ? ` (skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}`;
  }
  const skipped = backend.skipped.length ? `; skipped ${backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}` : '';
  return `TensorFlow.js ${backend.name} (ONNX Runtime not used: ${backend.onnxUnavailable}${skipped})`;
}
