/**
 * What a run keeps beside its accumulator, batch by batch, so that each cell can be judged: the
 * permutation test (permutationTest.ts) and the cells' drill-down data (cellDetails.ts). One
 * piece for both runs that stream batches — activation files (ckaMatrix) and models
 * (compareModels) — started, resumed, fed and finished alike.
 */
import type { BatchHsic } from './batchHsic.js';
import { CellDetailsCollector, type CellDetailsOptions, type CellDetailsResult, type CellDetailsState } from './cellDetails.js';
import type { CenteredGram, Centering } from './centeredGrams.js';
import { PermutationTest, type ObservedSums, type PermutationTestOptions, type PermutationTestResult, type PermutationTestState } from './permutationTest.js';
import type { PermutationKernels } from './permutedCross.js';

/** The evidence's part of a run's saved state. */
export interface CellEvidenceState {
  readonly permutation?: PermutationTestState;
  readonly details?: CellDetailsState;
}

export interface CellEvidenceOptions {
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  /** The test; none when absent or with 0 permutations. */
  readonly permutations?: PermutationTestOptions;
  /** Keep the cells' drill-down data. */
  readonly details?: boolean | Omit<CellDetailsOptions, 'examples' | 'batches'>;
  /** Examples in the evaluation set, and batches the run makes. */
  readonly examples: number;
  readonly batches: number;
  /** Batches already done by the run being resumed (0: a fresh run), and its saved state. */
  readonly skipped: number;
  readonly resumed?: CellEvidenceState;
  /** Where the run's warnings go (a resumed run whose saved state holds no test with these settings). */
  readonly warn: (message: string) => void;
}

export class CellEvidence {
  private constructor(
    private readonly test: PermutationTest | undefined,
    private readonly details: CellDetailsCollector | undefined,
  ) {}

  static start(options: CellEvidenceOptions): CellEvidence {
    const { layersA, layersB, skipped, resumed } = options;
    const testOptions = options.permutations && options.permutations.permutations > 0 ? options.permutations : undefined;
    let test: PermutationTest | undefined;
    if (testOptions) {
      test = PermutationTest.fromJSON(resumed?.permutation, layersA, layersB, testOptions);
      if (!test && skipped > 0) options.warn('the saved state of the interrupted comparison holds no permutation test with these settings: the test covers only the batches after it resumed');
      test ??= PermutationTest.create(layersA, layersB, testOptions);
    }
    const details = options.details
      ? new CellDetailsCollector(layersA.length, layersB.length, { batches: options.batches, ...(typeof options.details === 'object' ? options.details : {}), examples: options.examples }, skipped > 0 ? resumed?.details : undefined)
      : undefined;
    return new CellEvidence(test, details);
  }

  /** Adds a batch: its HSIC terms (with their rows), its grams, which examples its rows are, its weight and its index in the run's schedule. */
  async add(
    batch: { readonly hsic: BatchHsic; readonly gramsA: readonly CenteredGram[]; readonly gramsB: readonly CenteredGram[] | 'same'; readonly centering: Centering },
    examples: ArrayLike<number>,
    weight: number,
    step: number,
    kernels: PermutationKernels,
  ): Promise<void> {
    this.details?.add(batch.hsic, weight, examples);
    await this.test?.add(batch.gramsA, batch.gramsB, examples.length, batch.centering, weight, step, kernels);
  }

  /** The test over the batches so far (undefined without one). */
  significance(observed: ObservedSums): PermutationTestResult | undefined {
    return this.test?.result(observed);
  }

  /** What the run reports: the test and the details, where each runs. */
  result(observed: ObservedSums, ids?: readonly string[]): { significance?: PermutationTestResult; details?: CellDetailsResult } {
    return {
      ...(this.test ? { significance: this.test.result(observed) } : {}),
      ...(this.details ? { details: this.details.result(observed, ids) } : {}),
    };
  }

  toJSON(): CellEvidenceState {
    return { ...(this.test ? { permutation: this.test.toJSON() } : {}), ...(this.details ? { details: this.details.toJSON() } : {}) };
  }
}
