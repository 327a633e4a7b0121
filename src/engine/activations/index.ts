export * from './compareModels.js';
export * from './evaluationData.js';
export * from './agreement.js';
export * from './layerStream.js';
export * from './layerPairMatch.js';
export * from './datasetEvaluation.js';
export * from './exampleSubset.js';
