/**
 * "RepSim: Compare Models": pick an experiment of the workspace to run, or two models — saved
 * TensorFlow.js models, .npz activation files, or architecture presets — then the measure, the
 * estimator (activation files) or the dataset (models). The picks become an ad-hoc experiment
 * file under .repsim/adhoc/, which is run.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { DatasetName } from '../../protocol/experiment.js';
import { ARCHITECTURE_PRESETS, buildAdhocExperiment, compatible, writeAdhocExperiment, type AdhocChoices, type ModelPick } from './adhocExperiment.js';
import { refuseIfUntrusted, type CommandContext, type Refusal } from './commandContext.js';
import { runExperimentFile, type Started } from './runExperiment.js';
import { EXCLUDED, findExperimentFiles, listExperiments } from './workspaceFiles.js';

type Item<T> = vscode.QuickPickItem & { readonly value?: T };

const AD_HOC = 'ad-hoc';

async function modelItems(): Promise<Item<ModelPick>[]> {
  const [saved, onnx, activations] = await Promise.all([
    vscode.workspace.findFiles('**/model.json', EXCLUDED, 200),
    vscode.workspace.findFiles('**/*.onnx', EXCLUDED, 200),
    vscode.workspace.findFiles('**/*.{npz,npy}', EXCLUDED, 200),
  ]);
  const fileItem = (uri: vscode.Uri, pick: ModelPick, icon: string): Item<ModelPick> => ({ label: `$(${icon}) ${pick.kind === 'saved' ? basename(vscode.Uri.joinPath(uri, '..').fsPath) : basename(uri.fsPath)}`, description: vscode.workspace.asRelativePath(uri), value: pick });
  const local = (uris: vscode.Uri[]) => uris.filter((u) => u.scheme === 'file');
  return [
    { label: 'Architectures (trained by RepSim, cached)', kind: vscode.QuickPickItemKind.Separator },
    ...ARCHITECTURE_PRESETS.map((p): Item<ModelPick> => ({ label: `$(circuit-board) ${p.architecture}`, description: p.detail, value: { kind: 'architecture', architecture: p.architecture } })),
    ...(saved.length ? [{ label: 'Saved TensorFlow.js models', kind: vscode.QuickPickItemKind.Separator } as Item<ModelPick>] : []),
    ...local(saved).map((uri) => fileItem(uri, { kind: 'saved', path: uri.fsPath }, 'file-binary')),
    ...(onnx.length ? [{ label: 'ONNX models (e.g. exported from PyTorch)', kind: vscode.QuickPickItemKind.Separator } as Item<ModelPick>] : []),
    ...local(onnx).map((uri) => fileItem(uri, { kind: 'onnx', path: uri.fsPath }, 'symbol-class')),
    ...(activations.length ? [{ label: 'Activation files', kind: vscode.QuickPickItemKind.Separator } as Item<ModelPick>] : []),
    ...local(activations).map((uri) => fileItem(uri, { kind: 'activations', path: uri.fsPath }, 'table')),
  ];
}

async function pick<T>(items: Item<T>[], title: string, placeHolder: string): Promise<T | undefined> {
  // A multi-step wizard: a click elsewhere should not throw away the steps already taken.
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true, ignoreFocusOut: true });
  return picked?.value;
}

async function pickModels(): Promise<{ a: ModelPick; b: ModelPick } | undefined> {
  const items = await modelItems();
  const a = await pick(items, 'RepSim: Compare Models (1/4)', 'Model A (rows of the heatmap)');
  if (!a) return undefined;
  // Activation files compare only with activation files; models only with models.
  const forB = items.filter((item) => item.kind === vscode.QuickPickItemKind.Separator || (item.value && compatible(a, item.value)));
  const b = await pick(forB, 'RepSim: Compare Models (2/4)', 'Model B (columns; may be the same architecture: another seed)');
  return b && { a, b };
}

export async function pickAdhocChoices(context: CommandContext): Promise<AdhocChoices | undefined> {
  const models = await pickModels();
  if (!models) return undefined;
  const activations = models.a.kind === 'activations';
  const kernel = await pick<'linear' | 'rbf'>(
    [
      { label: 'Linear CKA', description: 'the usual choice', value: 'linear' },
      { label: 'RBF CKA', description: 'kernel bandwidth from the median distance', value: 'rbf' },
    ],
    'RepSim: Compare Models (3/4)',
    'Measure',
  );
  if (!kernel) return undefined;
  let estimator: AdhocChoices['estimator'] = 'minibatch';
  let dataset: DatasetName | undefined;
  if (activations) {
    const chosen = await pick<AdhocChoices['estimator']>(
      [
        { label: 'Minibatch', description: 'unbiased HSIC averaged over minibatches (Nguyen et al. 2021)', value: 'minibatch' },
        { label: 'Debiased', description: 'all examples at once (Kornblith et al. 2019)', value: 'debiased' },
        { label: 'Biased', description: 'all examples at once, the original estimator', value: 'biased' },
      ],
      'RepSim: Compare Models (4/4)',
      'Estimator',
    );
    if (!chosen) return undefined;
    estimator = chosen;
  } else {
    dataset = await pick<DatasetName>(
      [
        { label: 'Fashion-MNIST subset', description: '2,000 / 1,000 images shipped with RepSim, offline', value: 'fashion-mnist-subset' },
        { label: 'Fashion-MNIST', description: '60,000 / 10,000 images, downloaded once', value: 'fashion-mnist' },
        { label: 'CIFAR-10', description: '50,000 / 10,000 images, downloaded once (163 MB)', value: 'cifar10' },
      ],
      'RepSim: Compare Models (4/4)',
      'Dataset to train and evaluate on (minibatch CKA)',
    );
    if (!dataset) return undefined;
  }
  const { defaultBatchSize, defaultPasses } = context.settings();
  return { ...models, kernel, estimator, dataset, batchSize: defaultBatchSize, passes: defaultPasses };
}

export function compareModelsCommand(context: CommandContext) {
  return async (): Promise<Started | Refusal | undefined> => {
    const refusal = refuseIfUntrusted(context, 'compare models');
    if (refusal) return refusal;
    const experiments = await listExperiments(await findExperimentFiles());
    const choice = await vscode.window.showQuickPick<Item<{ uri: vscode.Uri; name: string } | typeof AD_HOC>>(
      [
        ...(experiments.length ? [{ label: 'Experiments in this workspace', kind: vscode.QuickPickItemKind.Separator }] : []),
        ...experiments.map((e) => ({ label: `$(beaker) ${e.name}`, description: vscode.workspace.asRelativePath(e.uri), value: e })),
        { label: 'Ad hoc', kind: vscode.QuickPickItemKind.Separator },
        { label: '$(add) Compare two models…', description: 'saved models, activation files or architectures', value: AD_HOC },
      ],
      { title: 'RepSim: Compare Models', placeHolder: 'An experiment to run, or two models to compare', matchOnDescription: true },
    );
    if (!choice?.value) return undefined;
    if (choice.value !== AD_HOC) return runExperimentFile(context, choice.value.uri, choice.value.name);

    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    if (!folder) throw new Error('open a folder first: ad-hoc comparisons are written to its .repsim/adhoc/ folder');
    const choices = await pickAdhocChoices(context);
    if (!choices) return undefined;
    const adhoc = buildAdhocExperiment(choices, folder.uri.fsPath);
    const filePath = await writeAdhocExperiment(adhoc);
    context.log.info(`ad-hoc experiment written to ${filePath}`);
    return runExperimentFile(context, vscode.Uri.file(filePath), adhoc.name);
  };
}
