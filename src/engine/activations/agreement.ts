/**
 * How often two models predict the same class, overall, per class and per example (Nguyen et
 * al. 2021 §6 compare wide and deep models' per-example predictions).
 */
export interface ClassAgreement {
  readonly label: number;
  readonly name?: string;
  readonly examples: number;
  /** Fraction of this class's examples on which both models predict the same class. */
  readonly agreement: number;
  readonly accuracyA: number;
  readonly accuracyB: number;
}

export interface PredictionAgreement {
  readonly examples: number;
  readonly agreement: number;
  readonly accuracyA: number | null;
  readonly accuracyB: number | null;
  readonly perClass: readonly ClassAgreement[];
  /** Per evaluated example, in the order first evaluated (each once, whatever the passes): its index, label (−1 if unknown) and both predictions. */
  readonly perExample: { readonly index: number[]; readonly label: number[]; readonly predictedA: number[]; readonly predictedB: number[] };
}

/** A counter's examples so far, as plain JSON (to resume an interrupted comparison). */
export interface AgreementState {
  readonly index: number[];
  readonly label: number[];
  readonly predictedA: number[];
  readonly predictedB: number[];
}

export class AgreementCounter {
  private readonly index: number[];
  private readonly label: number[];
  private readonly predictedA: number[];
  private readonly predictedB: number[];
  private readonly seen: Set<number>;

  constructor(
    private readonly classNames?: readonly string[],
    state?: AgreementState,
  ) {
    this.index = [...(state?.index ?? [])];
    this.label = [...(state?.label ?? [])];
    this.predictedA = [...(state?.predictedA ?? [])];
    this.predictedB = [...(state?.predictedB ?? [])];
    this.seen = new Set(this.index);
  }

  toJSON(): AgreementState {
    return { index: [...this.index], label: [...this.label], predictedA: [...this.predictedA], predictedB: [...this.predictedB] };
  }

  /** Counts each example the first time it comes (a later pass over the same example adds nothing). */
  add(indices: ArrayLike<number>, labels: ArrayLike<number> | undefined, predictedA: ArrayLike<number>, predictedB: ArrayLike<number>): void {
    for (let k = 0; k < indices.length; k++) {
      if (this.seen.has(indices[k])) continue;
      this.seen.add(indices[k]);
      this.index.push(indices[k]);
      this.label.push(labels ? labels[indices[k]] : -1);
      this.predictedA.push(predictedA[k]);
      this.predictedB.push(predictedB[k]);
    }
  }

  result(): PredictionAgreement {
    const n = this.index.length;
    const same = (k: number) => this.predictedA[k] === this.predictedB[k];
    const labelled = this.label.some((l) => l >= 0);
    const byClass = new Map<number, number[]>();
    this.label.forEach((l, k) => {
      const members = byClass.get(l);
      if (members) members.push(k);
      else byClass.set(l, [k]);
    });
    const fraction = (ks: number[], hit: (k: number) => boolean) => (ks.length ? ks.filter(hit).length / ks.length : 0);
    const all = [...Array(n).keys()];
    return {
      examples: n,
      agreement: fraction(all, same),
      accuracyA: labelled ? fraction(all, (k) => this.predictedA[k] === this.label[k]) : null,
      accuracyB: labelled ? fraction(all, (k) => this.predictedB[k] === this.label[k]) : null,
      perClass: labelled
        ? [...byClass.entries()]
            .sort(([a], [b]) => a - b)
            .map(([label, ks]) => ({
              label,
              name: this.classNames?.[label],
              examples: ks.length,
              agreement: fraction(ks, same),
              accuracyA: fraction(ks, (k) => this.predictedA[k] === label),
              accuracyB: fraction(ks, (k) => this.predictedB[k] === label),
            }))
        : [],
      perExample: { index: [...this.index], label: [...this.label], predictedA: [...this.predictedA], predictedB: [...this.predictedB] },
    };
  }
}
