/**
 * Structural checks for what arrives from the host or from saved state, beyond the protocol's
 * `isHostMessage` (which checks the envelope only). Whatever fails is ignored, never drawn:
 * a malformed matrix must not take the panel down.
 */
import type { CellDetails, CkaSnapshot, ClassAgreementResult, ComparisonResult, ExampleContribution, PermutationTest, RunProgress, RunSnapshot, SubspaceMatchPairResult, TrainingMetrics } from '../../src/protocol/results.js';

type Record_ = Record<string, unknown>;

const RUN_STATUSES = new Set(['queued', 'running', 'done', 'failed', 'cancelled']);

function isObject(value: unknown): value is Record_ {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number';
const isOptional = <T>(value: unknown, check: (v: unknown) => v is T): boolean => value === undefined || check(value);

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isString);
}

function isNumberOrNullList(value: unknown): value is (number | null)[] {
  return Array.isArray(value) && value.every((v) => v === null || isNumber(v));
}

/** rows × columns of numbers or null. */
export function isMatrix(value: unknown, rows: number, columns: number): value is (number | null)[][] {
  if (!Array.isArray(value) || value.length !== rows) return false;
  for (const row of value) {
    if (!Array.isArray(row) || row.length !== columns) return false;
    for (const cell of row) if (cell !== null && typeof cell !== 'number') return false;
  }
  return true;
}

export function isCkaSnapshot(value: unknown): value is CkaSnapshot {
  if (!isObject(value) || !isStringList(value.layersA) || !isStringList(value.layersB)) return false;
  const rows = value.layersA.length;
  const columns = value.layersB.length;
  return (
    isMatrix(value.matrix, rows, columns) &&
    isMatrix(value.stderr, rows, columns) &&
    isNumber(value.batchesDone) &&
    isNumber(value.totalBatches) &&
    (value.significance === undefined || isPermutationTest(value.significance, rows, columns))
  );
}

/** A permutation test whose matrices have the heatmap's shape. */
export function isPermutationTest(value: unknown, rows: number, columns: number): value is PermutationTest {
  return (
    isObject(value) &&
    isNumber(value.permutations) &&
    isNumber(value.seed) &&
    isString(value.method) &&
    isMatrix(value.nullMean, rows, columns) &&
    isMatrix(value.nullStd, rows, columns) &&
    isMatrix(value.pValue, rows, columns) &&
    isMatrix(value.calibrated, rows, columns)
  );
}

function isContributionList(value: unknown): value is ExampleContribution[] {
  return Array.isArray(value) && value.every((c) => isObject(c) && Number.isInteger(c.example) && (c.example as number) >= 0 && isNumber(c.share) && isOptional(c.id, isString));
}

/** rows × columns of lists, each checked by `item`. */
function isCellLists(value: unknown, rows: number, columns: number, item: (v: unknown) => boolean): boolean {
  return Array.isArray(value) && value.length === rows && value.every((row) => Array.isArray(row) && row.length === columns && row.every(item));
}

/** A drill-down whose per-cell lists have the heatmap's shape. */
export function isCellDetails(value: unknown, rows: number, columns: number): value is CellDetails {
  return (
    isObject(value) &&
    isString(value.contributionsMethod) &&
    typeof value.images === 'boolean' &&
    isCellLists(value.perBatch, rows, columns, isNumberOrNullList) &&
    (value.top === undefined || isCellLists(value.top, rows, columns, isContributionList)) &&
    (value.bottom === undefined || isCellLists(value.bottom, rows, columns, isContributionList))
  );
}

function isClassAgreement(value: unknown): value is ClassAgreementResult {
  return isObject(value) && isNumber(value.label) && isOptional(value.name, isString) && isNumber(value.examples) && isNumber(value.agreement) && isNumber(value.accuracyA) && isNumber(value.accuracyB);
}

function isSubspacePair(value: unknown): value is SubspaceMatchPairResult {
  return (
    isObject(value) &&
    isString(value.layerA) &&
    isString(value.layerB) &&
    Array.isArray(value.results) &&
    value.results.every((r) => isObject(r) && isNumber(r.epsilon) && isNumber(r.similarity) && Array.isArray(r.simpleMatchSizes) && r.simpleMatchSizes.every(isNumber))
  );
}

export function isComparisonResult(value: unknown): value is ComparisonResult {
  if (!isObject(value) || !isString(value.name) || !isString(value.a) || !isString(value.b)) return false;
  if (!isStringList(value.layersA) || !isStringList(value.layersB) || !isObject(value.settings)) return false;
  const rows = value.layersA.length;
  const columns = value.layersB.length;
  if (!isMatrix(value.matrix, rows, columns) || !isMatrix(value.stderr, rows, columns)) return false;
  if (!isNumber(value.batches) || !isNumber(value.examples) || !isObject(value.accuracy) || !isStringList(value.warnings)) return false;
  if (value.significance !== undefined && !isPermutationTest(value.significance, rows, columns)) return false;
  if (value.details !== undefined && !isCellDetails(value.details, rows, columns)) return false;
  const { firstPc, agreement, subspaceMatch } = value;
  if (firstPc !== undefined && !(isObject(firstPc) && isNumberOrNullList(firstPc.a) && isNumberOrNullList(firstPc.b))) return false;
  if (agreement !== undefined && !(isObject(agreement) && isNumber(agreement.agreement) && Array.isArray(agreement.perClass) && agreement.perClass.every(isClassAgreement))) return false;
  if (subspaceMatch !== undefined && !(Array.isArray(subspaceMatch) && subspaceMatch.every(isSubspacePair))) return false;
  const { layerIdentification } = value;
  if (
    layerIdentification !== undefined &&
    !(
      isObject(layerIdentification) &&
      isNumber(layerIdentification.matched) &&
      isNumber(layerIdentification.total) &&
      isOptional(layerIdentification.matchedReverse, isNumber) &&
      isOptional(layerIdentification.totalReverse, isNumber) &&
      Array.isArray(layerIdentification.layers)
    )
  )
    return false;
  return isOptional(value.finding, isString);
}

export function isTrainingMetrics(value: unknown): value is TrainingMetrics {
  return (
    isObject(value) &&
    isString(value.model) &&
    isNumber(value.epoch) &&
    isNumber(value.loss) &&
    isNumber(value.accuracy) &&
    isOptional(value.batch, isNumber) &&
    isOptional(value.batches, isNumber) &&
    isOptional(value.testLoss, isNumber) &&
    isOptional(value.testAccuracy, isNumber)
  );
}

export function isRunProgress(value: unknown): value is RunProgress {
  return isObject(value) && isString(value.phase) && isString(value.label) && isNumber(value.step) && isNumber(value.total) && isOptional(value.rate, isNumber) && isOptional(value.rateUnit, isString) && isOptional(value.etaSeconds, isNumber);
}

export function isRunSnapshot(value: unknown): value is RunSnapshot {
  if (!isObject(value) || !isString(value.runId) || !isString(value.experiment) || !isString(value.status) || !RUN_STATUSES.has(value.status)) return false;
  if (!Array.isArray(value.models) || !value.models.every((m) => isObject(m) && isString(m.id))) return false;
  if (!isObject(value.training) || !Object.values(value.training).every((points) => Array.isArray(points) && points.every(isTrainingMetrics))) return false;
  if (!Array.isArray(value.comparisons) || !value.comparisons.every(isComparisonResult)) return false;
  if (value.progress !== undefined && !isRunProgress(value.progress)) return false;
  const partial = value.partial;
  if (partial !== undefined && !(isObject(partial) && isString(partial.comparison) && isString(partial.a) && isString(partial.b) && isCkaSnapshot(partial.cka))) return false;
  return isOptional(value.error, isString) && isOptional(value.backend, isString) && isOptional(value.backendDetail, isString) && isOptional(value.finding, isString);
}
