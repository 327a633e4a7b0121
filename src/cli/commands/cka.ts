/** `repsim cka A.npz B.npz ...`: CKA between every layer of A and every layer of B. */
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { svgToPng } from '../../server/output/figurePng.js';
import { DEFAULT_ALPHA } from '../../../webview/figures/figureInput.js';
import { heatmapSvg } from '../../../webview/figures/heatmapSvg.js';
import { computeBackendName, type BackendReport } from '../../engine/backend/index.js';
import { chooseGramEngine, ckaMatrix, featureCount, gramFlops, LINEAR, plannedBatches, rbf, type CkaEstimator, type KernelSpec } from '../../engine/similarity/index.js';
import { InputError } from '../../engine/errors.js';
import { significanceSummary } from '../../protocol/findings.js';
import { assertSameExampleCount, loadActivationFile, type ActivationFile } from '../../engine/io/activationFiles.js';
import { assertSameExampleIds } from '../../engine/io/exampleIds.js';
import { matrixToCsv, matrixToTable, writeOutputs } from '../output.js';
import { ProgressLine } from '../progress.js';
import { modelActivations, modelKind, readInputs, type ModelKind } from '../models.js';
import { parseChoice, parseNumberOption, UsageError, type CommandContext } from '../options.js';

export const CKA_USAGE = `repsim cka A B [options]
  CKA between every layer of A and every layer of B. A and B are each an .npz of
  activations (one array per layer, examples on the first axis), an .onnx model, or a
  TensorFlow.js model.json; models run on --inputs and give their selected layers.
  --inputs X.npy|X.npz       the examples fed to the models as they are (first axis:
                             examples; your own preprocessing); needed for models
  --layers SEL               the models' layers: blocks (default), all, op:Relu,Add (ONNX),
                             a glob like 'layer*.relu' or a /regex/
  --layers-a SEL, --layers-b SEL   the same for one side
  --kernel linear|rbf        kernel (default linear)
  --threshold T              RBF bandwidth: sigma^2 = T^2 * median squared distance (default 1)
  --estimator E              biased | debiased | minibatch (default minibatch)
  --batch-size N             minibatch size (default 256, or all examples if fewer)
  --passes K                 passes over the examples (default 1: consecutive batches in file
                             order; more: a seeded reshuffle per pass)
  --seed S                   seed for the reshuffles and the permutations (default 0)
  --permutations P           permutation test per cell: P shuffles of B's examples within
                             each batch give each cell a p-value and a calibrated CKA
                             (default 100; 0: off)
  --permutation-cells C      all (default) | diagonal: the cells the test runs on
  --threads N                threads for the gram work: ONNX Runtime's intra-op threads, or
                             TensorFlow.js worker threads (default: auto, all cores)
  --json OUT                 write {layersA, layersB, matrix, stderr, ...} as JSON
  --csv OUT                  write the matrix as CSV (rows: layers of A)
  --figure OUT.svg|OUT.png   write the heatmap as a figure for a paper (axis titles, colour
                             bar, the settings as title; cells with p > 0.05 hatched)
  --origin bottom-left|top-left  where layer 1 sits in the figure (default bottom-left)`;

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
      permutations: { type: 'string', default: '100' },
      'permutation-cells': { type: 'string', default: 'all' },
      threads: { type: 'string', default: 'auto' },
      json: { type: 'string' },
      csv: { type: 'string' },
      figure: { type: 'string' },
      origin: { type: 'string', default: 'bottom-left' },
      inputs: { type: 'string' },
      layers: { type: 'string' },
      'layers-a': { type: 'string' },
      'layers-b': { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`cka takes two activation files or models, got ${positionals.length}`, undefined, 'cka');
  const [pathA, pathB] = positionals;
  const kernelName = parseChoice('--kernel', values.kernel!, ['linear', 'rbf'] as const);
  if (kernelName === 'linear' && values.threshold !== undefined) throw new UsageError('--threshold applies to --kernel rbf only', 'threshold', 'cka');
  const kernel: KernelSpec = kernelName === 'linear' ? LINEAR : rbf(parseNumberOption('--threshold', values.threshold ?? '1', { positive: true }));
  const estimator: CkaEstimator = parseChoice('--estimator', values.estimator!, ['biased', 'debiased', 'minibatch'] as const);
  const passes = parseNumberOption('--passes', values.passes!, { integer: true, min: 1 });
  const seed = parseNumberOption('--seed', values.seed!, { integer: true, min: 0 });
  const permutations = parseNumberOption('--permutations', values.permutations!, { integer: true, min: 0 });
  const permutationCells = parseChoice('--permutation-cells', values['permutation-cells']!, ['all', 'diagonal'] as const);
  const origin = parseChoice('--origin', values.origin!, ['bottom-left', 'top-left'] as const);
  const figureFormat = values.figure === undefined ? undefined : extname(values.figure).toLowerCase();
  if (figureFormat !== undefined && figureFormat !== '.svg' && figureFormat !== '.png') throw new UsageError(`--figure ${values.figure}: the file name must end in .svg or .png`, 'figure', 'cka');
  const threads = values.threads === 'auto' ? 'auto' : parseNumberOption('--threads', values.threads!, { integer: true, min: 1 });
  if (estimator !== 'minibatch' && (values['batch-size'] !== undefined || passes !== 1)) {
    throw new UsageError(`--batch-size and --passes apply to --estimator minibatch; '${estimator}' uses all examples at once`, 'estimator');
  }

  const kindA = await modelKind(pathA);
  const kindB = await modelKind(pathB);
  const models = [kindA, kindB].some((k) => k !== 'activations');
  if (models && values.inputs === undefined) throw new UsageError(`cka: models need --inputs X.npy (the examples fed to both)`, 'inputs', 'cka');
  if (!models && (values.inputs ?? values.layers ?? values['layers-a'] ?? values['layers-b']) !== undefined) {
    throw new UsageError('--inputs and --layers apply when A or B is a model (.onnx or model.json); activation files give all their arrays', 'inputs', 'cka');
  }
  for (const [kind, option] of [[kindA, 'layers-a'], [kindB, 'layers-b']] as const) {
    if (kind === 'activations' && values[option] !== undefined) throw new UsageError(`--${option} applies to a model, not an activation file`, option, 'cka');
  }
  const requestedBatch = values['batch-size'] !== undefined ? parseNumberOption('--batch-size', values['batch-size'], { integer: true, min: 4 }) : undefined;

  const backend = await context.backend();
  const inputsFile = values.inputs !== undefined && models ? await readInputs(values.inputs) : undefined;
  const inputs = inputsFile?.array;
  // A model's examples are the inputs file's, and so are its ids.
  const load = async (path: string, kind: ModelKind, selection: string | undefined): Promise<ExamplesWithIds> =>
    kind === 'activations'
      ? { ...(await loadActivationFile(path)), idsFile: path }
      : { layers: await modelActivations(path, inputs!, values.inputs!, { selection: selection ?? values.layers ?? 'blocks', batchSize: requestedBatch ?? 256, backend }), ids: inputsFile?.ids, idsFile: values.inputs! };
  const loadedA = await load(pathA, kindA, values['layers-a']);
  const loadedB = pathA === pathB && values['layers-a'] === values['layers-b'] ? loadedA : await load(pathB, kindB, values['layers-b']);
  const layersA = loadedA.layers;
  const layersB = loadedB.layers;
  assertSameExampleCount(pathA, layersA, pathB, layersB);
  if (loadedA.idsFile !== loadedB.idsFile) {
    const idsWarning = assertSameExampleIds(loadedA.ids, loadedB.ids, loadedA.idsFile, loadedB.idsFile);
    if (idsWarning) context.warn(idsWarning);
  }
  const examples = layersA[0].shape[0];
  if (estimator !== 'biased' && examples < 4) {
    throw new InputError(`${pathA === pathB ? pathA : `${pathA} and ${pathB}`}: ${examples} examples; ${estimator} CKA needs at least 4 (the unbiased HSIC estimator divides by n(n−3))`, pathA);
  }
  const batchSize = requestedBatch ?? Math.min(256, examples);

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
    permutations: permutations > 0 ? { permutations, seed, cells: permutationCells } : undefined,
    details: true,
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
        ...(result.significance ? { significance: result.significance } : {}),
        ...(result.details ? { details: result.details } : {}),
        files: { a: pathA, b: pathB, ...(inputs ? { inputs: values.inputs } : {}) },
        backend: computeBackendName(backend),
        warnings: result.warnings,
      },
      null,
      1,
    )}\n`;
  await writeOutputs([
    { path: values.json, contents: json },
    { path: values.csv, contents: () => matrixToCsv(result.layersA, result.layersB, result.matrix) },
    {
      path: values.figure,
      contents: () => {
        const settings = { kernel: kernelName, ...(kernel.kind === 'rbf' ? { threshold: kernel.threshold } : {}), estimator, batchSize: result.batchSize, passes: result.passes, seed, permutations };
        const svg = heatmapSvg(
          { ...result, a: basename(pathA), b: basename(pathB), settings, examples: result.examples },
          { origin, alpha: result.significance ? DEFAULT_ALPHA : undefined },
        );
        return figureFormat === '.png' ? svgToPng(svg) : svg;
      },
    },
  ]);
  if (values.json === undefined && values.csv === undefined && values.figure === undefined) context.print(matrixToTable(result.layersA, result.layersB, result.matrix));
  if (result.significance) context.log(significanceSummary(result.significance));
}


/** One side's layers, with the example ids of the file its examples come from (the activation file, or a model's inputs file). */
interface ExamplesWithIds extends ActivationFile {
  readonly idsFile: string;
}

function describe(backend: BackendReport): string {
  if (backend.onnx) {
    const skipped = backend.onnx.skipped;
    return `ONNX Runtime ${backend.onnx.provider}${skipped.length ? ` (skipped ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}`;
  }
  const skipped = backend.skipped.length ? `; skipped ${backend.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}` : '';
  return `TensorFlow.js ${backend.name} (ONNX Runtime not used: ${backend.onnxUnavailable}${skipped})`;
}
