/**
 * ONNX models read from `.onnx` files: loading and checking (modelFile), the values that can be
 * layers and their readable names (candidates, names), selecting layers (selection), running
 * them with fused grams or extracting activations (runner), and their inputs (inputs,
 * imageInputs).
 *
 *   const file = await loadOnnxModel('resnet.onnx');
 *   const candidates = await layerCandidates(runtime, file);
 *   const layers = selectOnnxLayers(file.path, candidates, parseOnnxLayerSelection('blocks'));
 *   const runner = new OnnxModelRunner(runtime, file, layers, { kernel: LINEAR, linear: false });
 *   const { grams, predictions } = await runner.run(batch, rows, [3, 32, 32]);
 */
export { loadOnnxModel, parseOnnxModel, formatDims, type OnnxDim, type OnnxInputInfo, type OnnxModelFile, type OnnxValueInfo } from './modelFile.js';
export { layerCandidates, probeOnnxModel, formatLayerCandidates, type CandidateOptions, type OnnxLayerCandidate, type OnnxProbe } from './candidates.js';
export { readableLayerNames, type NamedNode } from './names.js';
export { blockLayers, parseOnnxLayerSelection, selectOnnxLayers, NONLINEAR_OPS, POOLING_OPS, type OnnxLayerSelection } from './selection.js';
export {
  buildOnnxGramModel,
  classifierOutput,
  extractActivations,
  OnnxModelRunner,
  type ExtractOptions,
  type OnnxBatchResult,
  type OnnxGramModel,
  type OnnxInputTransform,
  type OnnxRunnerSpec,
} from './runner.js';
export { checkOnnxInputs, onnxInputsEvaluation, type InputsEvaluationOptions } from './inputs.js';
export { checkImageInput, imageExampleShape, onnxImageTransform, type OnnxImageInputSpec, type OnnxLayout, type OnnxNormalization } from './imageInputs.js';
export type { OnnxElementType, OnnxFloatType } from './tensors.js';
