/**
 * The model zoo: CIFAR ResNets (Nguyen, Raghu & Kornblith 2021), Keras-style bottleneck
 * ResNet-50/101/152 and plain CNNs, as tfjs-layers models with stable, readable layer names;
 * pure computation, no VS Code.
 *
 *   const model = buildModel(parseArchitecture('resnet-20'), { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
 *   const layers = selectLayers(model, 'blocks'); // ['stem/out', 'stage1/block1/out', …]
 *
 * Every model maps images [batch, height, width, channels] to class probabilities (softmax).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { architectureName, normalizeArchitecture, type ArchitectureSpec } from './architecture.js';
import { validateBuildOptions, type BuildOptions } from './buildOptions.js';
import { buildPlainCnn } from './plainCnn.js';
import { buildResnetBottleneck } from './resnetBottleneck.js';
import { buildResnetCifar } from './resnetCifar.js';

export {
  ARCHITECTURE_FORMS,
  architectureName,
  BOTTLENECK_DEPTHS,
  normalizeArchitecture,
  parseArchitecture,
  type ArchitectureFamily,
  type ArchitectureSpec,
  type BottleneckDepth,
  type NormalizedArchitecture,
} from './architecture.js';
export type { BuildOptions } from './buildOptions.js';
export { layerSeed } from './layerInit.js';
export { hiddenLayerNames, isBlockOutput, layerNameMatcher, layerOutputNames, parseLayerSelection, selectLayers, type LayerSelection } from './layerSelection.js';
export { BOTTLENECK_STACK_BLOCKS } from './resnetBottleneck.js';

/**
 * Builds a freshly initialised model (not compiled: training is the trainer's business). Its name
 * is the architecture's canonical name. InputError for a bad spec or options.
 */
export function buildModel(spec: ArchitectureSpec, options: BuildOptions): tfl.LayersModel {
  const architecture = normalizeArchitecture(spec);
  validateBuildOptions(options);
  const name = architectureName(architecture);
  switch (architecture.family) {
    case 'resnet-cifar':
      return buildResnetCifar(architecture, options, name);
    case 'resnet':
      return buildResnetBottleneck(architecture.depth, options, name);
    case 'plain-cnn':
      return buildPlainCnn(architecture, options, name);
  }
}
