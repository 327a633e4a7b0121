/**
 * `npm run bench` (part 3): RepSim's all-layer minibatch CKA heatmap of two ResNet-20s, against
 * the fastest PyTorch way of computing it (bench/pytorch_resnet20_cka.py) in the same run.
 *
 *   node --import tsx bench/resnet20-heatmap.bench.ts [--quick] [--backend NAME]
 *
 * The problem: two differently seeded ResNet-20s of the zoo (`resnet-20`, CIFAR input 32×32×3,
 * 10 classes, seeds 0 and 1), every hidden layer (`selectLayers(model, 'all')`: 69 per model),
 * seeded random images uniform in [−1, 1], batches of 256 consecutive images, one pass, U-centred
 * HSIC₁ summed over batches (RepSim's schedule: leftover images form a last, weighted batch when
 * there are at least 4 of them; 10,000 = 39 × 256 + 16): 1,024 and 10,000 images
 * (`--quick`: 1,024 only). RepSim runs `compareModels` with its default engine; PyTorch runs the
 * same network (its layer list and FLOPs are checked against RepSim's in
 * test/unit/bench-pytorch.test.ts) with forward hooks, `torch.mm` grams of centred features and
 * one all-pairs `torch.einsum` per batch, 2 threads. Each side runs each count in a fresh
 * process (its own peak RSS; nothing cached from the count before) and is timed cold, from the
 * call to the CKA matrix: model building and image generation are untimed, there is no warm-up
 * batch (RepSim's time includes whatever compareModels prepares, e.g. ONNX export and sessions).
 *
 * Each time is printed beside its limit: the heatmap's FLOPs (forward passes of both models,
 * 2·n²·d per layer gram, 2·n²·(LA·LB + LA + LB) of HSIC per batch) over the float32 matmul
 * rate PyTorch measures in the same run (torch.mm 1024³, 2 threads), the same rate for both
 * sides. The machine is shared: as in the other benches, each timed section waits for idle
 * cores, measures other processes' CPU use while it runs, is repeated (at most twice, within a
 * time budget) when disturbed, and is flagged CONTENDED when still disturbed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as tfl from '@tensorflow/tfjs-layers';
import { compareModels, type EvaluationData, type ModelComparison } from '../src/engine/activations/index.js';
import { computeBackendName, formatBackendReport, initBackend, isBackendName, type BackendReport, type RequestedBackend } from '../src/engine/backend/index.js';
import { buildModel, parseArchitecture, selectLayers } from '../src/engine/models/index.js';
import { seededRandom } from '../src/engine/random.js';
import { batchSchedule } from '../src/engine/similarity/index.js';
import { BackgroundLoad, cpuModel, formatCores, forwardFlops, isContended, leastDisturbed, reportFailures, runMain, shouldRetry, waitForQuiet } from './harness.js';

const SCRIPT = join(__dirname, 'pytorch_resnet20_cka.py');
const DATA_ROOT = join(__dirname, '.data');
/** Debian's python3-torch installs PyTorch for this interpreter only. */
const PYTHON = process.env.REPSIM_TORCH_PYTHON ?? '/usr/bin/python3';
const BATCH_SIZE = 256;
const SEEDS = { a: 0, b: 1, data: 4 } as const;
const INPUT_SHAPE = [32, 32, 3] as const;
const COUNTS = { quick: [1024], full: [1024, 10000] } as const;
/** Other processes' CPU use below which the machine counts as quiet; and how long to wait for it. */
const QUIET_CORES = 0.15;
const QUIET_WAIT_SECONDS = { quick: 5, full: 15 };
/** Other processes' average CPU use during a timed section above which it is flagged (and retried). */
const CONTENDED_CORES = 0.25;
const MAX_RETRIES = 2;
const RETRY_BUDGET_SECONDS = { quick: 40, full: 420 };

const GIB = 1024 ** 3;
const RESULT_MARKER = '@@repsim-resnet20-result ';

// --- The problem and its FLOPs ----------------------------------------------------------------

interface FlopModel {
  /** Rows of each batch (RepSim's schedule: full batches, then the leftover rows when ≥ 4). */
  readonly batchRows: readonly number[];
  readonly forwardPerImage: number;
  readonly forward: number;
  readonly grams: number;
  readonly hsic: number;
  readonly total: number;
}

function featureCount(model: tfl.LayersModel, name: string): number {
  return (model.getLayer(name).outputShape as number[]).slice(1).reduce((x, y) => x * y, 1);
}

function flopModel(a: tfl.LayersModel, layersA: readonly string[], b: tfl.LayersModel, layersB: readonly string[], images: number): FlopModel {
  const batchRows = [...batchSchedule({ examples: images, batchSize: BATCH_SIZE, passes: 1, seed: 0 })].map((plan) =>
    plan.examples instanceof Uint32Array ? plan.examples.length : plan.examples.end - plan.examples.start,
  );
  const used = batchRows.reduce((x, y) => x + y, 0);
  const squares = batchRows.reduce((sum, m) => sum + m * m, 0);
  const forwardPerImage = forwardFlops(a);
  const forward = (forwardFlops(a) + forwardFlops(b)) * used;
  const widths = [...layersA.map((name) => featureCount(a, name)), ...layersB.map((name) => featureCount(b, name))];
  const grams = 2 * squares * widths.reduce((x, y) => x + y, 0);
  const hsic = 2 * squares * (layersA.length * layersB.length + layersA.length + layersB.length);
  return { batchRows, forwardPerImage, forward, grams, hsic, total: forward + grams + hsic };
}

function buildPair(): { a: tfl.LayersModel; b: tfl.LayersModel; layersA: string[]; layersB: string[] } {
  const architecture = parseArchitecture('resnet-20');
  const a = buildModel(architecture, { inputShape: [...INPUT_SHAPE], numClasses: 10, seed: SEEDS.a });
  const b = buildModel(architecture, { inputShape: [...INPUT_SHAPE], numClasses: 10, seed: SEEDS.b });
  return { a, b, layersA: selectLayers(a, 'all'), layersB: selectLayers(b, 'all') };
}

/** Seeded random images uniform in [−1, 1] (as bench/models.bench.ts builds them). */
function syntheticEvaluation(count: number): EvaluationData {
  const size = INPUT_SHAPE.reduce((x, y) => x * y, 1);
  const random = seededRandom(SEEDS.data);
  const images = Float32Array.from({ length: count * size }, () => random() * 2 - 1);
  return {
    count,
    exampleShape: [...INPUT_SHAPE],
    inputs(examples) {
      if (!(examples instanceof Uint32Array)) return images.slice(examples.start * size, examples.end * size);
      const out = new Float32Array(examples.length * size);
      examples.forEach((index, k) => out.set(images.subarray(index * size, (index + 1) * size), k * size));
      return out;
    },
  };
}

/** Whether other processes disturbed a timed section (see bench/harness.ts). */
const contended = (load: number | null): boolean => isContended(load, CONTENDED_CORES);

// --- PyTorch ----------------------------------------------------------------------------------

interface PytorchResult {
  readonly images: number;
  readonly batches: number;
  readonly layersA: number;
  readonly layersB: number;
  readonly seconds: number;
  readonly forwardSeconds: number;
  readonly gramSeconds: number;
  readonly hsicSeconds: number;
  readonly batchSeconds: readonly number[];
  readonly torchVersion: string;
  readonly threads: number;
  readonly blas: string;
  readonly centred: boolean;
  readonly matmulRate: { readonly shape: readonly number[]; readonly flopsPerSecond: number };
  readonly gramRate: { readonly shape: readonly number[]; readonly flopsPerSecond: number };
  readonly flops: FlopModel;
  readonly ckaRange: readonly [number, number] | null;
  readonly backgroundCores: number | null;
  readonly quietWaitSeconds: number;
  readonly startedBusy: boolean;
  readonly attempts: readonly { readonly seconds: number; readonly backgroundCores: number | null }[];
  readonly peakRssBytes: number;
}

function torchUnavailable(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status === 0) return null;
  const reason = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
  return `${PYTHON} cannot import torch (${reason}); install it with apt-get install python3-torch`;
}

function runPytorch(images: number, quietWait: number, retryDeadline: number, out: string): PytorchResult {
  const args = [SCRIPT, 'run', '--images', String(images), '--batch-size', String(BATCH_SIZE), '--threads', '2', '--seed-a', String(SEEDS.a), '--seed-b', String(SEEDS.b)];
  args.push('--data-seed', String(SEEDS.data), '--quiet-wait', String(quietWait), '--contended-cores', String(CONTENDED_CORES));
  args.push('--max-retries', String(MAX_RETRIES), '--retry-until', String(retryDeadline / 1000), '--out', out);
  const result = spawnSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${SCRIPT} failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ''})`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as PytorchResult;
}

// --- RepSim -----------------------------------------------------------------------------------

interface RepsimResult {
  readonly seconds: number;
  readonly batchSeconds: readonly number[];
  readonly layersA: number;
  readonly layersB: number;
  readonly batches: number;
  /** What the comparison reports about the engine that ran it (an `engine` or `runtime` field), if anything. */
  readonly engine: string | null;
  readonly ckaRange: readonly [number, number] | null;
  readonly flops: FlopModel;
  readonly backgroundCores: number | null;
  readonly quietWaitSeconds: number;
  readonly startedBusy: boolean;
  readonly attempts: readonly { readonly seconds: number; readonly backgroundCores: number | null }[];
  /** The child process's peak RSS (sampled after every batch; the process runs this one count only). */
  readonly peakRssBytes: number;
  /** The backends `initBackend` chose (computeBackendName, formatBackendReport). */
  readonly backend: string;
  readonly backendReport: string;
}

type RepsimChildResult = ({ readonly available: true } & RepsimResult) | { readonly available: false; readonly reason: string };

interface RepsimChildRequest {
  readonly images: number;
  readonly quietWait: number;
  readonly retryDeadline: number;
  readonly backend: RequestedBackend;
}

/** An `engines` ({ a, b }), `engine` or `runtime` field on the result, its cka part or a progress report, as text. */
function engineField(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const engines = record.engines as { a?: unknown; b?: unknown } | undefined;
  if (engines && typeof engines === 'object' && typeof engines.a === 'string' && typeof engines.b === 'string') {
    return engines.a === engines.b ? `${engines.a} (both models)` : `model A ${engines.a}, model B ${engines.b}`;
  }
  for (const key of ['engine', 'runtime']) {
    const field = record[key];
    if (field === undefined || field === null) continue;
    return typeof field === 'string' ? field : JSON.stringify(field);
  }
  return engineField(record.cka);
}

/** One count in a fresh process (own peak RSS, nothing kept from an earlier count), as the other benches do. */
function runRepsimChild(request: RepsimChildRequest): RepsimChildResult {
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--repsim-child', JSON.stringify(request)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (child.status !== 0 || !line) throw new Error(`the RepSim child process failed (exit ${child.status}${child.signal ? `, ${child.signal}` : ''})`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as RepsimChildResult;
}

async function repsimChild(request: RepsimChildRequest): Promise<RepsimChildResult> {
  let report: BackendReport;
  try {
    report = await initBackend(request.backend);
  } catch (error) {
    return { available: false, reason: `backend ${request.backend} is not available here (${(error as Error).message})` };
  }
  const result = await runRepsim(request.images, request.quietWait, request.retryDeadline);
  return { available: true, ...result, backend: computeBackendName(report), backendReport: formatBackendReport(report) };
}

async function runRepsim(images: number, quietWait: number, retryDeadline: number): Promise<Omit<RepsimResult, 'backend' | 'backendReport'>> {
  type Attempt = Omit<RepsimResult, 'attempts' | 'peakRssBytes' | 'backend' | 'backendReport'>;
  const attempts: Attempt[] = [];
  let peakRss = 0;
  for (;;) {
    const { a, b, layersA, layersB } = buildPair(); // fresh models: nothing cached from an earlier attempt
    const data = syntheticEvaluation(images);
    const flops = flopModel(a, layersA, b, layersB, images);
    const wait = await waitForQuiet(quietWait, QUIET_CORES);
    const batchEnds: number[] = [];
    let engine: string | null = null;
    const load = new BackgroundLoad();
    const started = performance.now();
    const result: ModelComparison = await compareModels({ model: a, layers: layersA }, { model: b, layers: layersB }, data, { batchSize: BATCH_SIZE, passes: 1 }, (progress) => {
      batchEnds.push(performance.now());
      engine ??= engineField(progress);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    });
    const seconds = (performance.now() - started) / 1000;
    const backgroundCores = load.cores();
    engine = engineField(result) ?? engine;
    a.dispose();
    b.dispose();
    const values = result.cka.matrix.flat().filter((v): v is number => v !== null);
    const batchSeconds = batchEnds.map((end, i) => (end - (i ? batchEnds[i - 1] : started)) / 1000);
    attempts.push({
      seconds,
      batchSeconds,
      layersA: layersA.length,
      layersB: layersB.length,
      batches: result.cka.batches,
      engine,
      ckaRange: values.length ? [Math.min(...values), Math.max(...values)] : null,
      flops,
      backgroundCores,
      quietWaitSeconds: wait.waitedSeconds,
      startedBusy: wait.busyCores !== null,
    });
    console.error(`repsim: ${fmt(seconds)} s (engine ${engine ?? 'not reported'}); other processes ${cores(backgroundCores)}`);
    if (!shouldRetry(attempts.length, seconds, backgroundCores, { contendedCores: CONTENDED_CORES, maxRetries: MAX_RETRIES, deadline: retryDeadline })) break;
  }
  const kept = leastDisturbed(attempts);
  return { ...kept, attempts: attempts.map((x) => ({ seconds: x.seconds, backgroundCores: x.backgroundCores })), peakRssBytes: peakRss };
}

// --- Output -----------------------------------------------------------------------------------

function log(line: string): void {
  console.log(line);
}

const fmt = (seconds: number): string => (seconds >= 100 ? seconds.toFixed(0) : seconds >= 10 ? seconds.toFixed(1) : seconds.toFixed(2));
const gflop = (flops: number): string => `${(flops / 1e9).toFixed(flops >= 1e11 ? 0 : 1)} GFLOP`;
const cores = formatCores;

function batchSummary(batchSeconds: readonly number[]): string {
  if (batchSeconds.length === 0) return 'no batches';
  const sorted = [...batchSeconds].sort((x, y) => x - y);
  return `batches median ${fmt(sorted[Math.floor(sorted.length / 2)])} s, min ${fmt(sorted[0])} s, max ${fmt(sorted[sorted.length - 1])} s`;
}

/** The fastest batch of 256 (a partial batch left out): the figure least moved by other processes. */
function bestFullBatch(batchSeconds: readonly number[], batchRows: readonly number[]): number {
  return Math.min(...batchSeconds.filter((_, i) => batchRows[i] === BATCH_SIZE));
}

/** '39 batches of 256 and one of 16' (RepSim's schedule). */
function describeBatches(rows: readonly number[]): string {
  const full = rows.filter((m) => m === BATCH_SIZE).length;
  const partial = rows.filter((m) => m !== BATCH_SIZE);
  return `${full} batch${full === 1 ? '' : 'es'} of ${BATCH_SIZE}${partial.length ? ` and ${partial.map((m) => `one of ${m}`).join(', ')}` : ''}`;
}

function machineLine(): string {
  return `machine: ${cpus().length} cores, ${cpuModel()}, ${(totalmem() / GIB).toFixed(1)} GiB memory; Node ${process.version}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

interface CountReport {
  readonly images: number;
  readonly repsim: RepsimResult;
  readonly pytorch: PytorchResult | null;
  readonly pytorchSkipped: string | null;
}

function describeCount(report: CountReport): string[] {
  const { repsim, pytorch } = report;
  const flops = repsim.flops;
  const rate = pytorch?.matmulRate.flopsPerSecond ?? null;
  const limit = rate === null ? null : flops.total / rate;
  const beside = (seconds: number) => (limit === null ? 'limit n/a (no PyTorch matmul rate)' : `limit ${fmt(limit)} s, ×${(seconds / limit).toFixed(1)} of it`);
  const lines = [
    `${report.images.toLocaleString('en-US')} images: ${describeBatches(flops.batchRows)}, ${repsim.layersA} × ${repsim.layersB} layers`,
    `  FLOPs: forward 2 × ${(flops.forwardPerImage / 1e6).toFixed(1)} MFLOP × ${flops.batchRows.reduce((x, y) => x + y, 0)} images = ${gflop(flops.forward)}, grams ${gflop(flops.grams)}, HSIC ${gflop(flops.hsic)}; total ${gflop(flops.total)}` +
      (rate === null ? '' : `; limit = total / ${(rate / 1e9).toFixed(1)} GFLOP/s (PyTorch float32 torch.mm ${pytorch!.matmulRate.shape.join('×')}, ${pytorch!.threads} threads, this run)`),
    `  RepSim   ${fmt(repsim.seconds).padStart(7)} s   ${beside(repsim.seconds)}   [engine: ${repsim.engine ?? `not reported by compareModels (backend ${repsim.backend})`}; ${batchSummary(repsim.batchSeconds)}]`,
  ];
  if (pytorch) {
    lines.push(
      `  PyTorch  ${fmt(pytorch.seconds).padStart(7)} s   ${beside(pytorch.seconds)}   [forward ${fmt(pytorch.forwardSeconds)} s, grams ${fmt(pytorch.gramSeconds)} s, HSIC ${fmt(pytorch.hsicSeconds)} s; ${batchSummary(pytorch.batchSeconds)};` +
        ` torch ${pytorch.torchVersion}, ${pytorch.threads} threads, BLAS ${pytorch.blas}; gram ${pytorch.gramRate.shape.join('×')} ${(pytorch.gramRate.flopsPerSecond / 1e9).toFixed(1)} GFLOP/s]`,
      `  ratio RepSim/PyTorch ${(repsim.seconds / pytorch.seconds).toFixed(2)} (target ≤ 1.0)` +
        `   (best full batch: RepSim ${fmt(bestFullBatch(repsim.batchSeconds, flops.batchRows))} s, PyTorch ${fmt(bestFullBatch(pytorch.batchSeconds, flops.batchRows))} s,` +
        ` ratio ${(bestFullBatch(repsim.batchSeconds, flops.batchRows) / bestFullBatch(pytorch.batchSeconds, flops.batchRows)).toFixed(2)}: the least disturbed batches)`,
    );
    if (pytorch.layersA !== repsim.layersA || pytorch.layersB !== repsim.layersB) lines.push(`  WARNING: PyTorch compared ${pytorch.layersA} × ${pytorch.layersB} layers, RepSim ${repsim.layersA} × ${repsim.layersB}`);
    if (pytorch.batches !== repsim.batches) lines.push(`  WARNING: PyTorch ran ${pytorch.batches} batches, RepSim ${repsim.batches}`);
    if (pytorch.flops.total !== flops.total) lines.push(`  WARNING: PyTorch counts ${gflop(pytorch.flops.total)} for its network, RepSim ${gflop(flops.total)}`);
  } else {
    lines.push(`  PyTorch  skipped: ${report.pytorchSkipped}`);
  }
  const range = (r: readonly [number, number] | null) => (r ? `${r[0].toFixed(3)} to ${r[1].toFixed(3)}` : 'n/a');
  lines.push(
    `  CKA range (different random weights on each side, so not compared cell by cell): RepSim ${range(repsim.ckaRange)}${pytorch ? `, PyTorch ${range(pytorch.ckaRange)}` : ''}`,
    `  other processes' CPU during the timed section: RepSim ${cores(repsim.backgroundCores)}${pytorch ? `, PyTorch ${cores(pytorch.backgroundCores)}` : ''}` +
      `   (waited ${fmt(repsim.quietWaitSeconds)} s${pytorch ? ` / ${fmt(pytorch.quietWaitSeconds)} s` : ''} for a quiet machine${repsim.startedBusy || pytorch?.startedBusy ? ', gave up: started busy' : ''})` +
      (contended(repsim.backgroundCores) || contended(pytorch?.backgroundCores ?? null) ? '   CONTENDED: these times are not representative' : ''),
    `  timed attempts (kept: the least disturbed): RepSim ${repsim.attempts.map((x) => `${fmt(x.seconds)} s (${cores(x.backgroundCores)})`).join(', ')}` +
      (pytorch ? `; PyTorch ${pytorch.attempts.map((x) => `${fmt(x.seconds)} s (${cores(x.backgroundCores)})`).join(', ')}` : ''),
    `  peak RSS: RepSim ${(repsim.peakRssBytes / GIB).toFixed(2)} GiB (its own process)${pytorch ? `, PyTorch ${(pytorch.peakRssBytes / GIB).toFixed(2)} GiB` : ''}`,
  );
  return lines;
}

function summaryTable(reports: readonly CountReport[]): string[] {
  const header = ['images', 'RepSim', 'PyTorch', 'limit', 'RepSim/limit', 'PyTorch/limit', 'RepSim/PyTorch', 'best-batch ratio', 'other CPU (R / P)', ''];
  const rows = reports.map(({ images, repsim, pytorch }) => {
    const limit = pytorch ? repsim.flops.total / pytorch.matmulRate.flopsPerSecond : null;
    return [
      images.toLocaleString('en-US'),
      `${fmt(repsim.seconds)} s`,
      pytorch ? `${fmt(pytorch.seconds)} s` : 'skipped',
      limit === null ? 'n/a' : `${fmt(limit)} s`,
      limit === null ? 'n/a' : (repsim.seconds / limit).toFixed(1),
      limit === null || !pytorch ? 'n/a' : (pytorch.seconds / limit).toFixed(1),
      pytorch ? (repsim.seconds / pytorch.seconds).toFixed(2) : 'n/a',
      pytorch ? (bestFullBatch(repsim.batchSeconds, repsim.flops.batchRows) / bestFullBatch(pytorch.batchSeconds, repsim.flops.batchRows)).toFixed(2) : 'n/a',
      `${repsim.backgroundCores?.toFixed(2) ?? 'n/a'} / ${pytorch?.backgroundCores?.toFixed(2) ?? 'n/a'}`,
      contended(repsim.backgroundCores) || contended(pytorch?.backgroundCores ?? null) ? 'CONTENDED' : '',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  return [header, ...rows].map((row) => row.map((cell, c) => cell.padStart(widths[c])).join('  ').trimEnd());
}

// --- Main -------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const childIndex = argv.indexOf('--repsim-child');
  if (childIndex >= 0) {
    const result = await repsimChild(JSON.parse(argv[childIndex + 1]) as RepsimChildRequest);
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
    return 0;
  }
  const quick = argv.includes('--quick');
  const backendIndex = argv.indexOf('--backend');
  const backendArg = backendIndex >= 0 ? argv[backendIndex + 1] : undefined;
  const mode = quick ? 'quick' : 'full';
  log(`\nResNet-20 all-layer CKA heatmap: RepSim against PyTorch (${mode}) — ${new Date().toISOString()}`);
  log(machineLine());
  if (backendArg !== undefined && !isBackendName(backendArg)) {
    log(`--backend ${backendArg}: unknown backend`);
    return 1;
  }
  if (backendArg === 'cpu') {
    log('skipped: TensorFlow.js cpu takes hours for a ResNet-20 heatmap (see BENCHMARKS.md); run without --backend, or with an onnx-* or wasm backend');
    return 0;
  }
  const backend: RequestedBackend = (backendArg as RequestedBackend | undefined) ?? 'auto';
  const pytorchSkipped = torchUnavailable();
  log(`PyTorch: ${pytorchSkipped ?? `${PYTHON} ${SCRIPT}`}; RepSim: compareModels with default options, backend ${backend}, one child process per count`);

  const retryDeadline = Date.now() + RETRY_BUDGET_SECONDS[mode] * 1000;
  const quietWait = QUIET_WAIT_SECONDS[mode];
  mkdirSync(DATA_ROOT, { recursive: true });
  const reports: CountReport[] = [];
  const failures: string[] = [];
  for (const images of COUNTS[mode]) {
    log(`\n… ${images.toLocaleString('en-US')} images`);
    let pytorch: PytorchResult | null = null;
    let skipped = pytorchSkipped;
    if (!skipped) {
      try {
        pytorch = runPytorch(images, quietWait, retryDeadline, join(DATA_ROOT, `resnet20-heatmap-pytorch-${images}.json`));
      } catch (error) {
        skipped = (error as Error).message;
        failures.push(skipped);
      }
    }
    let child: RepsimChildResult;
    try {
      child = runRepsimChild({ images, quietWait, retryDeadline, backend });
    } catch (error) {
      failures.push(`${images} images: ${(error as Error).message}`);
      log(`  FAILED: ${(error as Error).message}`);
      continue;
    }
    if (!child.available) {
      log(`skipped: ${child.reason}`);
      if (backendArg) failures.push(child.reason);
      break;
    }
    const { available: _, ...repsim } = child;
    if (reports.length === 0) for (const line of repsim.backendReport.split('\n')) log(`  RepSim ${line}`);
    const report: CountReport = { images, repsim, pytorch, pytorchSkipped: skipped };
    reports.push(report);
    for (const line of describeCount(report)) log(line);
    if (pytorch && (pytorch.layersA !== repsim.layersA || pytorch.layersB !== repsim.layersB)) failures.push(`${images} images: the two sides compared different layer counts`);
  }

  log('\n=== Summary: ResNet-20 all-layer heatmap ===');
  log(machineLine());
  for (const line of summaryTable(reports)) log(line);
  log('limit = FLOPs (forward passes of both models + grams + HSIC) / PyTorch float32 matmul rate measured in the same run; X/limit = time / limit;');
  log("best-batch ratio = RepSim's fastest batch of 256 / PyTorch's (the least disturbed batches; RepSim's first includes compareModels' preparation).");
  if (reports.some((r) => contended(r.repsim.backgroundCores) || contended(r.pytorch?.backgroundCores ?? null))) {
    log(`CONTENDED: other processes used > ${CONTENDED_CORES} cores while a flagged section was timed; rerun on a quiet machine.`);
  }
  const record = join(DATA_ROOT, `resnet20-heatmap-last-run-${mode}.json`);
  writeFileSync(record, JSON.stringify({ date: new Date().toISOString(), machine: machineLine(), reports, failures }, null, 1));
  log(`full results: ${record}`);
  if (reports.length === 0 && !backendArg) failures.push('RepSim did not run');
  return reportFailures(failures, log);
}

runMain(main);
