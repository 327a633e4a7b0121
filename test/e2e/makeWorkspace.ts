/**
 * Prepares the e2e workspace: the quickstart example made fast (1 epoch, 250 evaluation
 * images, no subspace match; both comparisons, so that its finding has both parts) as
 * experiment "quickstart-e2e", plus "slow-e2e" (other seeds,
 * more epochs) for the cancel test, in one test-only experiment file; two activation files;
 * and two small ONNX models exported from PyTorch for Fashion-MNIST (test/fixtures/onnx).
 * usage: node --import tsx test/e2e/makeWorkspace.ts <workspace folder>
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'jsonc-parser';
import type { Experiment, ExperimentFile, ModelEntry } from '../../src/protocol/experiment.js';

export const E2E_FILE = 'quickstart-e2e.repsim.json';

export function fastQuickstart(exampleText: string): string {
  const example = parse(exampleText) as ExperimentFile;
  const quickstart = example.experiments[0];
  const train = (seed: number, epochs: number): ModelEntry => ({ architecture: 'resnet-8', seed, training: { epochs, batchSize: 100, learningRate: 0.05, schedule: 'cosine', augment: false } });
  const fast: Experiment = {
    ...quickstart,
    name: 'quickstart-e2e',
    description: 'The quickstart, made fast for the e2e test: 1 epoch, 250 evaluation images.',
    data: { ...quickstart.data, evaluationExamples: 250 },
    // The untrained model as the example has it (0 epochs: nothing to train).
    models: { 'resnet8-seed0': train(0, 1), 'resnet8-seed1': train(1, 1), 'resnet8-untrained': quickstart.models['resnet8-untrained'] },
    comparisons: quickstart.comparisons.map((comparison) => ({ ...comparison, batchSize: 125, passes: 1, subspaceMatch: undefined })),
  };
  const slow: Experiment = {
    name: 'slow-e2e',
    description: 'Long enough to be cancelled by the e2e test.',
    data: fast.data,
    models: { 'resnet8-seed2': train(2, 5), 'resnet8-seed3': train(3, 5) },
    comparisons: [{ a: 'resnet8-seed2', b: 'resnet8-seed3', layers: 'all' }],
  };
  const header = exampleText.split('\n').filter((line) => line.startsWith('//')).join('\n');
  // No "$schema" pointing into the repository: the extension provides the schema.
  return `// e2e copy of examples/quickstart.repsim.json (made fast by test/e2e/makeWorkspace.ts)\n${header}\n${JSON.stringify({ version: 1, experiments: [fast, slow] }, null, 2)}\n`;
}

if (require.main === module) {
  const folder = process.argv[2];
  if (!folder) throw new Error('usage: makeWorkspace.ts <workspace folder>');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  const example = readFileSync(join(__dirname, '..', '..', 'examples', 'quickstart.repsim.json'), 'utf8');
  writeFileSync(join(folder, E2E_FILE), fastQuickstart(example));
  writeFileSync(join(folder, '.vscode', 'settings.json'), JSON.stringify({ 'repsim.backend': 'auto' }, null, 2));
  // Activation files for "Compare two models…".
  mkdirSync(join(folder, 'activations'));
  for (const file of ['relu_net_seed0.npz', 'relu_net_seed1.npz']) copyFileSync(join(__dirname, '..', '..', 'examples', 'activations', file), join(folder, 'activations', file));
  // ONNX models (PyTorch exports, 1 x 28 x 28 NCHW) for "Compare two models…".
  mkdirSync(join(folder, 'pytorch'));
  for (const [from, to] of [['fmnist.onnx', 'torch_seed4.onnx'], ['fmnist_b.onnx', 'torch_seed5.onnx']]) copyFileSync(join(__dirname, '..', 'fixtures', 'onnx', from), join(folder, 'pytorch', to));
  console.log(`workspace ready: ${folder}`);
}
