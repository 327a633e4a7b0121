/**
 * What a run produces, as written to results JSON, streamed to the extension and drawn by the
 * webview and the HTML report.
 */
import type { BackendName, OnnxBackendName } from '../engine/backend/index.js';

export type Matrix = (number | null)[][];

export interface CkaSettings {
  readonly kernel: 'linear' | 'rbf';
  readonly threshold?: number;
  readonly estimator: 'minibatch' | 'biased' | 'debiased';
  readonly batchSize: number;
  readonly passes: number;
  readonly seed: number;
  /** Permutations per cell for the significance test (0: none). Absent in results from before it existed. */
  readonly permutations?: number;
}

/**
 * The permutation test per cell (engine/similarity/permutationTest.ts): B's examples shuffled
 * within each batch; per cell the null mean and standard deviation, the p-value
 * (1 + #{null ≥ observed}) / (P + 1) and the calibrated CKA (observed − null mean) / (1 − null mean),
 * as matrices like `matrix`, null where not tested.
 */
export type { PermutationTestResult as PermutationTest } from '../engine/similarity/permutationTest.js';
import type { PermutationTestResult as PermutationTest } from '../engine/similarity/permutationTest.js';

/** One example's share of a cell, in CKA units (all examples' shares sum to the cell's CKA). */
export type { ExampleShare as ExampleContribution } from '../engine/similarity/cellDetails.js';
import type { CellDetailsResult } from '../engine/similarity/cellDetails.js';

/** What the drill-down of a cell shows, for every cell (engine/similarity/cellDetails.ts). */
export interface CellDetails extends CellDetailsResult {
  /** Whether the examples are images of a dataset the server can draw as thumbnails. */
  readonly images: boolean;
}

/** A comparison's heatmap while it fills in, and once it is done. */
export interface CkaSnapshot {
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  /** Row i = layer i of model A; null where CKA is undefined. */
  readonly matrix: Matrix;
  /** Standard error of each cell's reported value: a delete-one-block jackknife over blocks of batchSize consecutive examples (null below two blocks). */
  readonly stderr: Matrix;
  readonly batchesDone: number;
  readonly totalBatches: number;
  /** The permutation test over the batches so far, when one runs. */
  readonly significance?: PermutationTest;
}

export interface SubspaceMatchPairResult {
  readonly layerA: string;
  readonly layerB: string;
  readonly results: readonly {
    readonly epsilon: number;
    readonly similarity: number;
    readonly a: readonly number[];
    readonly b: readonly number[];
    readonly simpleMatchSizes: readonly number[];
  }[];
}

/** Per-class prediction agreement, as the engine counts it. */
export type { ClassAgreement as ClassAgreementResult } from '../engine/activations/agreement.js';
import type { ClassAgreement as ClassAgreementResult } from '../engine/activations/agreement.js';

/**
 * Kornblith et al. (2019)'s check for two models with the same layers: is each layer of A most
 * similar, of all the layers of B, to its counterpart (B's layer of the same name)?
 */
export interface LayerIdentification {
  /** Layers of A whose most similar layer of B is their counterpart. */
  readonly matched: number;
  /** Layers of A whose counterpart's CKA is defined. */
  readonly total: number;
  /** The reverse check: layers of B whose most similar layer of A is their counterpart (column maxima). */
  readonly matchedReverse?: number;
  readonly totalReverse?: number;
  /** Mean CKA of the counterpart pairs (the heatmap's diagonal). */
  readonly meanCorresponding: number | null;
  /** Per layer of A: its most similar layer of B, and CKA with that layer and with its counterpart. */
  readonly layers: readonly {
    readonly layer: string;
    readonly mostSimilar: string | null;
    readonly matched: boolean;
    readonly cka: number | null;
    readonly counterpartCka: number | null;
  }[];
}

export interface ComparisonResult {
  readonly name: string;
  /** Model ids as named in the experiment. */
  readonly a: string;
  readonly b: string;
  readonly measure: 'cka';
  readonly settings: CkaSettings;
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  readonly matrix: Matrix;
  /** Standard error of each cell's reported value (see `stderrMethod`). */
  readonly stderr: Matrix;
  /** What `stderr` is, in words (a jackknife over blocks of examples; 'none …' for the full-data estimators). */
  readonly stderrMethod?: string;
  /** The permutation test per cell (absent when permutations is 0). */
  readonly significance?: PermutationTest;
  /** Per-cell drill-down: per-batch values and the examples that drive each cell. */
  readonly details?: CellDetails;
  readonly batches: number;
  /** Evaluation examples used (a trailing batch of fewer than 4 is left out, with a warning). */
  readonly examples: number;
  /** Test accuracy of each model where it has a classifier and labels (null otherwise). */
  readonly accuracy: { readonly a: number | null; readonly b: number | null };
  readonly firstPc?: { readonly a: readonly (number | null)[]; readonly b: readonly (number | null)[] };
  /** How `firstPc` is computed, in words. */
  readonly firstPcMethod?: string;
  readonly agreement?: { readonly agreement: number; readonly perClass: readonly ClassAgreementResult[] };
  readonly subspaceMatch?: readonly SubspaceMatchPairResult[];
  /** For two different models with the same layers (see LayerIdentification). */
  readonly layerIdentification?: LayerIdentification;
  /** What the comparison shows, in one line (e.g. how many layers identify their counterpart). */
  readonly finding?: string;
  readonly warnings: readonly string[];
}

/** One point of a training curve. */
export interface TrainingMetrics {
  readonly model: string;
  readonly epoch: number;
  /** Within the epoch; absent for end-of-epoch points. */
  readonly batch?: number;
  readonly batches?: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly testLoss?: number;
  readonly testAccuracy?: number;
  readonly learningRate?: number;
  readonly imagesPerSecond?: number;
}

export interface ModelSummary {
  readonly id: string;
  /** How the model was obtained in this run. */
  readonly source: 'trained' | 'cache' | 'untrained' | 'saved' | 'activations';
  readonly architecture?: string;
  readonly seed?: number;
  readonly parameters?: number;
  readonly testAccuracy?: number | null;
}

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export type RunPhase = 'queued' | 'data' | 'train' | 'compare' | 'subspace-match' | 'report';

export interface RunProgress {
  readonly phase: RunPhase;
  /** What is being worked on, e.g. "training resnet-20 seed 0" or "comparing a-vs-b". */
  readonly label: string;
  readonly step: number;
  readonly total: number;
  /** Items per second in `rateUnit` (images/s, batches/s). */
  readonly rate?: number;
  readonly rateUnit?: string;
  readonly etaSeconds?: number;
}

/** Everything a view needs to draw a run: also what the HTML report embeds. */
export interface RunSnapshot {
  readonly runId: string;
  readonly experiment: string;
  readonly file?: string;
  readonly status: RunStatus;
  /** What computed activations and similarity: an ONNX Runtime provider (onnx-*) or a TensorFlow.js backend. */
  readonly backend?: BackendName | OnnxBackendName;
  /** What computed and what trained, in words (with why ONNX Runtime did not run, when it did not). */
  readonly backendDetail?: string;
  readonly progress?: RunProgress;
  readonly models: readonly ModelSummary[];
  /** Training curves per model id, end-of-epoch points (and per-batch points while training). */
  readonly training: Readonly<Record<string, readonly TrainingMetrics[]>>;
  /** Finished comparisons, and the one in progress as a partial result. */
  readonly comparisons: readonly ComparisonResult[];
  readonly partial?: { readonly comparison: string; readonly a: string; readonly b: string; readonly cka: CkaSnapshot };
  /** What the run shows, in one line: its comparisons' findings together. */
  readonly finding?: string;
  /** The results folder, once results have been written there. */
  readonly output?: string;
  readonly error?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}
