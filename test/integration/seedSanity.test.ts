// Kornblith et al. 2019's sanity check on trained networks: for two seeds of one architecture,
// each layer of one network should be most similar to the corresponding layer of the other.
// The networks must be trained enough for their layers to differ: after one or two epochs on
// the 2,000-image subset every layer is dominated by the same input directions (CKA ≥ 0.95
// everywhere) and the row maxima fall on neighbours by noise (measured: 2 of 8 rows for
// ResNet-8 after 1 epoch, 2 of 9 for plain-cnn-10 after 2). Trained like the quickstart
// (3 epochs, learning rate 0.05) the block outputs are told apart (measured 5 of 5).
// A trained network compared with itself gives a CKA diagonal of exactly 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareModels, testSetEvaluation } from '../../src/engine/activations/index.js';
import { loadDataset } from '../../src/engine/data/index.js';
import { buildModel, parseArchitecture, selectLayers } from '../../src/engine/models/index.js';
import { datasetTrainingData, trainModel } from '../../src/engine/train/index.js';
import { testBackend } from '../helpers/backend.js';


test('two seeds of ResNet-8: most layers are most similar to their counterpart; self-CKA diagonal is 1', async (t) => {
  const backend = await testBackend();
  if (backend.name === 'cpu') return t.skip('training is too slow on the cpu backend');
  const dataset = await loadDataset('fashion-mnist-subset');
  const trained = await Promise.all(
    [0, 1].map(async (seed) => {
      const model = buildModel(parseArchitecture('resnet-8'), { inputShape: [28, 28, 1], numClasses: 10, seed });
      await trainModel(model, datasetTrainingData(dataset), { epochs: 3, batchSize: 64, schedule: { kind: 'cosine', learningRate: 0.05 }, dataSeed: seed });
      return model;
    }),
  );
  const layers = selectLayers(trained[0], { pattern: '/(^stem|block\\d+)\\/out$|^pool$/' });
  assert.deepEqual(layers, ['stem/out', 'stage1/block1/out', 'stage2/block1/out', 'stage3/block1/out', 'pool']);
  const evaluation = testSetEvaluation(dataset);
  const { cka } = await compareModels({ model: trained[0], layers }, { model: trained[1], layers }, evaluation, { batchSize: 250, passes: 1 });
  const matched = cka.matrix.filter((row, i) => row.indexOf(Math.max(...row.map((v) => v ?? -Infinity))) === i).length;
  t.diagnostic(`${matched}/${layers.length} layers are most similar to their counterpart`);
  assert.ok(matched / layers.length > 0.5, `only ${matched} of ${layers.length} rows peak on the diagonal:\n${cka.matrix.map((r) => r.map((v) => v?.toFixed(2)).join(' ')).join('\n')}`);

  const self = await compareModels({ model: trained[0], layers }, { model: trained[0], layers }, evaluation, { batchSize: 250 });
  self.cka.matrix.forEach((row, i) => assert.ok(Math.abs(row[i]! - 1) < 1e-6, `diagonal ${layers[i]}: ${row[i]}`));
  for (const model of trained) model.dispose();
});
