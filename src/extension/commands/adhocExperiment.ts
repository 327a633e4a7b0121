/**
 * "Compare Models" with two models picked by hand: the picks become a small experiment file
 * under `<workspace>/.repsim/adhoc/`, run like any other (and kept, so it can be edited and run
 * again). Same picks → same file and results folder, so trained models are reused.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import type { ComparisonSpec, DatasetName, Experiment, ModelEntry } from '../../protocol/experiment.js';

export type ModelPick =
  | { readonly kind: 'architecture'; readonly architecture: string }
  /** A saved TensorFlow.js model: its model.json (absolute path). */
  | { readonly kind: 'saved'; readonly path: string }
  /** An ONNX model (e.g. exported from PyTorch), absolute path: fed the dataset's images as NCHW. */
  | { readonly kind: 'onnx'; readonly path: string }
  /** An .npz/.npy of activations (absolute path). */
  | { readonly kind: 'activations'; readonly path: string };

export interface AdhocChoices {
  readonly a: ModelPick;
  readonly b: ModelPick;
  readonly kernel: 'linear' | 'rbf';
  readonly estimator: 'minibatch' | 'biased' | 'debiased';
  /** For models (not activation files): what they are trained and evaluated on. */
  readonly dataset?: DatasetName;
  readonly batchSize: number;
  readonly passes: number;
}

export const ADHOC_FOLDER = join('.repsim', 'adhoc');

export const ARCHITECTURE_PRESETS: readonly { readonly architecture: string; readonly detail: string }[] = [
  { architecture: 'resnet-20', detail: 'CIFAR ResNet, 20 layers (0.27 M parameters)' },
  { architecture: 'resnet-56', detail: 'CIFAR ResNet, 56 layers (0.85 M parameters)' },
  { architecture: 'resnet-14-w4', detail: 'CIFAR ResNet, 14 layers, 4× wider' },
  { architecture: 'plain-cnn-10', detail: 'plain CNN, 10 layers, no skip connections' },
];

/** Activation files only compare with activation files (a model would need the same examples). */
export function compatible(a: ModelPick, b: ModelPick): boolean {
  return (a.kind === 'activations') === (b.kind === 'activations');
}

const ID_PATTERN = /[^A-Za-z0-9._-]+/g;

function sanitizeId(text: string): string {
  return text.replace(ID_PATTERN, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '').slice(0, 60) || 'model';
}

/** A readable model id: the architecture, the saved model's folder, the activation file's stem. */
export function modelId(pick: ModelPick): string {
  switch (pick.kind) {
    case 'architecture':
      return sanitizeId(pick.architecture.toLowerCase());
    case 'saved':
      return sanitizeId(basename(pick.path).toLowerCase() === 'model.json' ? basename(dirname(pick.path)) : basename(pick.path, extname(pick.path)));
    case 'onnx':
    case 'activations':
      return sanitizeId(basename(pick.path, extname(pick.path)));
  }
}

/** A path as written in the experiment file: relative to it, with forward slashes. */
function relativeTo(folder: string, path: string): string {
  const rel = relative(folder, path).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

function modelEntry(pick: ModelPick, seed: number, folder: string): ModelEntry {
  switch (pick.kind) {
    case 'architecture':
      return { architecture: pick.architecture, seed };
    case 'saved':
      return { path: relativeTo(folder, pick.path) };
    case 'onnx':
      // PyTorch's layout; "normalize" says how the dataset's images are prepared (edit it to the model's own).
      return { onnx: relativeTo(folder, pick.path), layout: 'NCHW', normalize: 'dataset' };
    case 'activations':
      return { activations: relativeTo(folder, pick.path) };
  }
}

export interface AdhocExperiment {
  readonly name: string;
  /** Where the file goes, absolute. */
  readonly filePath: string;
  readonly text: string;
  readonly experiment: Experiment;
}

export function buildAdhocExperiment(choices: AdhocChoices, workspaceFolder: string, now: Date = new Date()): AdhocExperiment {
  const { a, b } = choices;
  if (!compatible(a, b)) throw new Error('an activations file can only be compared with another activations file');
  const folder = join(workspaceFolder, ADHOC_FOLDER);
  let idA = modelId(a);
  let idB = modelId(b);
  const sameArchitecture = a.kind === 'architecture' && b.kind === 'architecture' && idA === idB;
  if (sameArchitecture) {
    // Two of one architecture: the same network trained from two seeds.
    idA = `${idA}-seed0`;
    idB = `${idB}-seed1`;
  } else if (idA === idB && JSON.stringify(a) !== JSON.stringify(b)) {
    idA = `${idA}-a`;
    idB = `${idB}-b`;
  }
  const name = sanitizeId(idA === idB ? `${idA}-self` : `${idA}-vs-${idB}`);
  const activations = a.kind === 'activations';
  const models: Record<string, ModelEntry> = { [idA]: modelEntry(a, 0, folder) };
  if (idB !== idA) models[idB] = modelEntry(b, sameArchitecture ? 1 : 0, folder);
  const comparison: ComparisonSpec = {
    name,
    a: idA,
    b: idB,
    kernel: choices.kernel,
    // Models stream minibatches; the other estimators take activation files only.
    estimator: activations ? choices.estimator : 'minibatch',
    batchSize: choices.batchSize,
    passes: choices.passes,
  };
  const experiment: Experiment = {
    name,
    description: `Ad-hoc comparison from "RepSim: Compare Models" (${now.toISOString().slice(0, 16).replace('T', ' ')} UTC).`,
    ...(activations ? {} : { data: { dataset: choices.dataset ?? 'fashion-mnist-subset' } }),
    models,
    comparisons: [comparison],
  };
  const header = [
    '// Written by "RepSim: Compare Models". Edit it (training, layers, subspace match…) and run it',
    '// again with the ▶ Run lens above the experiment; results go to repsim-results/ beside it.',
  ].join('\n');
  const text = `${header}\n${JSON.stringify({ version: 1, experiments: [experiment] }, null, 2)}\n`;
  return { name, filePath: join(folder, `${name}.repsim.json`), text, experiment };
}

export async function writeAdhocExperiment(adhoc: AdhocExperiment): Promise<string> {
  await mkdir(dirname(adhoc.filePath), { recursive: true });
  await writeFile(adhoc.filePath, adhoc.text, 'utf8');
  return adhoc.filePath;
}
