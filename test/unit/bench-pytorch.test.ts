/**
 * The PyTorch baseline of bench/resnet20-heatmap.bench.ts (bench/pytorch_resnet20_cka.py) must
 * compute RepSim's estimator on RepSim's network:
 *   - its CKA functions (the ones the timed heatmap uses) agree with `ckaMatrix` (minibatch,
 *     linear, one pass) on small fixed activations passed as .npy files;
 *   - its ResNet-20 hooks the same 69 hidden layers as `selectLayers(model, 'all')`, with the
 *     same names, order and feature counts, and the same forward FLOPs.
 * Skipped where `/usr/bin/python3` (REPSIM_TORCH_PYTHON) cannot import torch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '../../src/engine/io/npy.js';
import { buildModel, parseArchitecture, selectLayers } from '../../src/engine/models/index.js';
import { ckaMatrix, LINEAR, type LayerActivations } from '../../src/engine/similarity/index.js';
import { testBackend } from '../helpers/backend.js';
import { assertCkaClose, randomLatent, runPythonJson, syntheticLayer } from '../helpers/benchScripts.js';

const SCRIPT = join(__dirname, '..', '..', 'bench', 'pytorch_resnet20_cka.py');
const PYTHON = process.env.REPSIM_TORCH_PYTHON ?? '/usr/bin/python3';
const EXAMPLES = 48;
const TOLERANCE = 1e-5;

const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0;

function runScript(args: string[]): Record<string, unknown> {
  return runPythonJson(PYTHON, SCRIPT, args);
}

describe('the bench PyTorch baseline (pytorch_resnet20_cka.py)', () => {
  let directory = '';
  let layersA: LayerActivations[] = [];
  let layersB: LayerActivations[] = [];
  const files = { a: [] as string[], b: [] as string[] };

  before(async () => {
    await testBackend();
    if (torchMissing) return;
    directory = mkdtempSync(join(tmpdir(), 'repsim-bench-pytorch-'));
    const latent = randomLatent(EXAMPLES, 11);
    layersA = [
      syntheticLayer('conv', [3, 2, 2], 1, latent),
      syntheticLayer('relu', [3, 2, 2], 2, latent, { relu: true, offset: 0.3 }),
      syntheticLayer('far-from-zero', [5], 3, latent, { offset: 40 }),
      syntheticLayer('wide', [8, 4, 4], 4, latent, { relu: true }),
    ];
    layersB = [syntheticLayer('fc', [7], 5, latent), syntheticLayer('fc.relu', [7], 6, latent, { relu: true, offset: 0.1 })];
    for (const [model, layers] of [['a', layersA], ['b', layersB]] as const) {
      layers.forEach((layer, i) => {
        const file = join(directory, `${model}${i}.npy`);
        writeFileSync(file, encodeNpy(layer));
        files[model].push(file);
      });
    }
  });
  after(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  // 20 leaves a partial trailing batch, which both drop.
  for (const batchSize of [8, 16, 20, EXAMPLES]) {
    test(`CKA agrees with ckaMatrix (minibatch, linear), batches of ${batchSize}`, async (t) => {
      if (torchMissing) return t.skip('python3-torch not installed');
      const expected = runScript(['cka', '--a', files.a.join(','), '--b', files.b.join(','), '--batch-size', String(batchSize)]);
      const actual = await ckaMatrix(layersA, layersB, { kernel: LINEAR, estimator: 'minibatch', batchSize, passes: 1, seed: 0 });
      assert.equal(expected.batches, actual.batches);
      const cka = expected.cka as (number | null)[][];
      assertCkaClose(actual.matrix, cka, TOLERANCE, 'PyTorch');
    });
  }

  test("its ResNet-20 hooks the layers of selectLayers(resnet-20, 'all'), with RepSim's forward FLOPs", (t) => {
    if (torchMissing) return t.skip('python3-torch not installed');
    const described = runScript(['layers']) as { count: number; layers: { name: string; shape: number[] }[]; forwardFlopsPerImage: number };
    const model = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    try {
      const names = selectLayers(model, 'all');
      assert.equal(described.count, names.length);
      assert.deepEqual(
        described.layers.map((l) => l.name),
        names,
      );
      const size = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);
      described.layers.forEach((layer, i) => assert.equal(size(layer.shape), size((model.getLayer(names[i]).outputShape as number[]).slice(1)), layer.name));
      let flops = 0;
      for (const layer of model.layers) {
        const config = layer.getConfig() as { kernelSize?: number[]; filters?: number; units?: number };
        if (!config.units && !(config.filters && config.kernelSize)) continue;
        const out = layer.outputShape as number[];
        const inShape = (layer.input as { shape: number[] }).shape;
        const channelsIn = inShape[inShape.length - 1];
        if (config.filters && config.kernelSize) flops += 2 * out[1] * out[2] * config.kernelSize[0] * config.kernelSize[1] * channelsIn * config.filters;
        else flops += 2 * channelsIn * config.units!;
      }
      assert.equal(described.forwardFlopsPerImage, flops);
    } finally {
      model.dispose();
    }
  });
});
