/**
 * Checks a schema-valid experiment file for what a schema cannot say: references to models
 * that exist, architectures that parse, files that exist, measures that fit the models.
 */
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Node } from 'jsonc-parser';
import { isInputError } from '../../engine/errors.js';
import { parseArchitecture } from '../../engine/models/index.js';
import { isActivationsModel, isOnnxModel, isSavedModel, isTrainedModel, type ComparisonSpec, type EstimatorName, type Experiment, type ExperimentFile, type ValidationIssue } from '../../protocol/experiment.js';
import { comparisonFiles } from '../output/resultFiles.js';
import { issueAt, parseExperimentText } from './parse.js';

/** Resolves a path written in an experiment file against the file's folder. */
export function resolveAgainst(filePath: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(filePath), path);
}

async function exists(path: string, kind: 'file' | 'directory' | 'either'): Promise<boolean> {
  try {
    const s = await stat(path);
    return kind === 'either' || (kind === 'file' ? s.isFile() : s.isDirectory());
  } catch {
    return false;
  }
}

/** Where a saved TensorFlow.js model's model.json is, given its path or its folder; null if absent. */
export async function savedModelJson(path: string): Promise<string | null> {
  if (await exists(path, 'file')) return path;
  const inside = join(path, 'model.json');
  return (await exists(inside, 'file')) ? inside : null;
}

export function comparisonName(comparison: Experiment['comparisons'][number]): string {
  return comparison.name ?? `${comparison.a}-vs-${comparison.b}`;
}

/** A comparison with one estimator, as runs take them. */
export type SingleEstimatorComparison = Omit<ComparisonSpec, 'estimator'> & { readonly estimator?: EstimatorName };

/**
 * The comparisons as runs take them: one with a list of estimators becomes one per estimator,
 * named `<name>-<estimator>` (so that the panel shows them side by side); the others stay as they are.
 */
export function expandedComparisons(comparisons: readonly ComparisonSpec[]): SingleEstimatorComparison[] {
  return comparisons.flatMap((comparison): SingleEstimatorComparison[] => {
    const { estimator } = comparison;
    if (typeof estimator !== 'object') return [{ ...comparison, estimator }];
    const base = comparisonName(comparison);
    return estimator.map((one) => ({ ...comparison, name: `${base}-${one}`, estimator: one }));
  });
}

/** The experiment with its comparisons expanded (expandedComparisons). */
export function expandedExperiment(experiment: Experiment): Omit<Experiment, 'comparisons'> & { readonly comparisons: readonly SingleEstimatorComparison[] } {
  return { ...experiment, comparisons: expandedComparisons(experiment.comparisons) };
}

/**
 * The folder a relative `output` may write in: the workspace folder holding the experiment file
 * when the client names one (VS Code), else the file's own folder. An absolute `output` is the
 * user's explicit choice and may be anywhere.
 */
export function outputRoot(filePath: string, workspaceFolder?: string): string {
  return workspaceFolder && isInside(resolve(workspaceFolder), dirname(resolve(filePath))) ? resolve(workspaceFolder) : dirname(resolve(filePath));
}

function isInside(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest));
}

/** Why an experiment's `output` may not be used (a relative path leaving `outputRoot`), or null. */
export function outputProblem(filePath: string, output: string, workspaceFolder?: string): string | null {
  if (isAbsolute(output)) return null;
  const root = outputRoot(filePath, workspaceFolder);
  if (isInside(root, resolveAgainst(filePath, output))) return null;
  return `'${output}' leads outside ${root}: a relative output must stay inside the ${workspaceFolder ? 'workspace folder' : "experiment file's folder"}; write an absolute path to put results elsewhere`;
}

export interface SemanticOptions {
  /** The workspace folder the file belongs to (see `outputRoot`). */
  readonly workspaceFolder?: string;
}

export async function experimentSemanticIssues(file: ExperimentFile, filePath: string, root?: Node, options: SemanticOptions = {}): Promise<ValidationIssue[]> {
  const issues: ValidationIssue[] = [];
  const seenExperiments = new Set<string>();
  for (const [e, experiment] of file.experiments.entries()) {
    const at = (segments: (string | number)[], message: string, severity: ValidationIssue['severity'] = 'error') => issues.push(issueAt(root, ['experiments', e, ...segments], message, severity));
    if (seenExperiments.has(experiment.name)) at(['name'], `another experiment is already named '${experiment.name}'`);
    seenExperiments.add(experiment.name);
    const problem = experiment.output === undefined ? null : outputProblem(filePath, experiment.output, options.workspaceFolder);
    if (problem) at(['output'], problem);
    await checkModels(experiment, filePath, at);
    checkComparisons(experiment, at);
  }
  return issues;
}

/** Channels of each dataset's images. */
const DATASET_CHANNELS: Readonly<Record<string, number>> = { 'fashion-mnist-subset': 1, 'fashion-mnist': 1, cifar10: 3 };

type Reporter = (segments: (string | number)[], message: string, severity?: ValidationIssue['severity']) => void;

async function checkModels(experiment: Experiment, filePath: string, at: Reporter): Promise<void> {
  for (const key of ['inputs', 'labels'] as const) {
    const given = experiment.data?.[key];
    if (given !== undefined && !(await exists(resolveAgainst(filePath, given), 'file'))) at(['data', key], `no such file: ${resolveAgainst(filePath, given)}`);
  }
  if (experiment.data?.labels !== undefined && experiment.data.inputs === undefined) at(['data', 'labels'], 'labels go with data.inputs (the dataset has its own)');
  for (const [id, entry] of Object.entries(experiment.models)) {
    if (isTrainedModel(entry)) {
      try {
        parseArchitecture(entry.architecture);
      } catch (error) {
        if (!isInputError(error)) throw error;
        at(['models', id, 'architecture'], error.message);
      }
    } else if (isSavedModel(entry)) {
      const path = resolveAgainst(filePath, entry.path);
      if (!(await savedModelJson(path))) at(['models', id, 'path'], `no TensorFlow.js model at ${path} (expected its model.json or the folder holding it)`);
      const normalize = entry.normalize;
      if (typeof normalize === 'object') {
        const dataset = experiment.data?.dataset ?? 'fashion-mnist-subset';
        const channels = DATASET_CHANNELS[dataset];
        for (const key of ['mean', 'std'] as const) {
          const value = normalize[key];
          if (typeof value !== 'number' && value.length !== channels) at(['models', id, 'normalize', key], `${value.length} values for the ${channels} channel${channels === 1 ? '' : 's'} of ${dataset}: give one number, or one per channel`);
        }
      }
    } else if (isOnnxModel(entry)) {
      const path = resolveAgainst(filePath, entry.onnx);
      if (!(await exists(path, 'file'))) at(['models', id, 'onnx'], `no such file: ${path}`);
      const normalize = entry.normalize;
      if (typeof normalize === 'object' && experiment.data?.inputs === undefined) {
        const dataset = experiment.data?.dataset ?? 'fashion-mnist-subset';
        const channels = DATASET_CHANNELS[dataset];
        for (const key of ['mean', 'std'] as const) {
          const value = normalize[key];
          if (typeof value !== 'number' && value.length !== channels) at(['models', id, 'normalize', key], `${value.length} values for the ${channels} channel${channels === 1 ? '' : 's'} of ${dataset}: give one number, or one per channel`);
        }
      }
      if (experiment.data?.inputs !== undefined && (entry.layout !== undefined || entry.normalize !== undefined)) {
        at(['models', id], 'data.inputs are fed to the models as they are: "layout" and "normalize" apply to the built-in datasets only', 'warning');
      }
    } else if (isActivationsModel(entry)) {
      const path = resolveAgainst(filePath, entry.activations);
      if (!(await exists(path, 'file'))) at(['models', id, 'activations'], `no such file: ${path}`);
    }
  }
}

function checkComparisons(experiment: Experiment, at: Reporter): void {
  const ids = Object.keys(experiment.models);
  const names = new Set<string>();
  // File names a comparison's results take (case-folded: macOS and Windows file systems ignore case).
  const files = new Map<string, string>([
    ['results.json', 'the run'],
    ['report.html', 'the run'],
  ]);
  experiment.comparisons.forEach((comparison, c) => {
    const where = ['comparisons', c, comparison.name ? 'name' : 'b'];
    // One name per estimator when the comparison lists several (expandedComparisons).
    for (const { name } of expandedComparisons([comparison]).map((one) => ({ name: comparisonName(one) }))) {
      if (names.has(name)) at(where, `another comparison is already named '${name}': give this one a "name"`);
      else {
        const clash = comparisonFiles(name).find((file) => files.has(file.toLowerCase()));
        if (clash) {
          const owner = files.get(clash.toLowerCase())!;
          at(where, `the results of '${name}' would be written to ${clash}, which ${owner === 'the run' ? "the run's own results use" : `comparison '${owner}' also writes`}: give this one another "name"`);
        }
        for (const file of comparisonFiles(name)) if (!files.has(file.toLowerCase())) files.set(file.toLowerCase(), name);
      }
      names.add(name);
    }
    for (const side of ['a', 'b'] as const) {
      if (!experiment.models[comparison[side]]) at(['comparisons', c, side], `unknown model '${comparison[side]}': expected one of ${ids.map((i) => `'${i}'`).join(', ')}`);
    }
    const [a, b] = [experiment.models[comparison.a], experiment.models[comparison.b]];
    if (!a || !b) return;
    const activations = [a, b].filter(isActivationsModel).length;
    if (activations === 1) at(['comparisons', c], 'an activations file can only be compared with another activations file (a model would need the same examples run through it)');
    if (activations === 2) {
      if (comparison.subspaceMatch) at(['comparisons', c, 'subspaceMatch'], 'subspace match of activation files is not run here: use `repsim match` on the files', 'warning');
      if (comparison.agreement === true) at(['comparisons', c, 'agreement'], 'activation files carry no predictions: agreement is skipped', 'warning');
    } else if (comparison.subspaceMatch && [a, b].some(isOnnxModel)) {
      at(['comparisons', c, 'subspaceMatch'], 'subspace match is not available for ONNX models: use `repsim extract` and `repsim match` on the activations');
    } else {
      const fullData = [comparison.estimator ?? []].flat().filter((e) => e !== 'minibatch');
      if (fullData.length) at(['comparisons', c, 'estimator'], `comparisons of models stream minibatches: '${fullData[0]}' applies to activation files only; expected "minibatch"`);
    }
  });
}

/** Schema and semantic checks together, as the server's `validate` request and `run` use them. */
export async function validateExperimentText(text: string, filePath: string, options: SemanticOptions = {}): Promise<{ file: ExperimentFile | null; issues: ValidationIssue[] }> {
  const parsed = parseExperimentText(text);
  if (!parsed.file) return parsed;
  const issues = await experimentSemanticIssues(parsed.file, filePath, parsed.root, options);
  return { file: issues.some((i) => i.severity === 'error') ? null : parsed.file, issues };
}
