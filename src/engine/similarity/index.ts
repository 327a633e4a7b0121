/** The similarity engine's public surface. */
export * from './kernel.js';
export * from './gram.js';
export * from './centering.js';
export * from './hsic.js';
export * from './cka.js';
export * from './accumulator.js';
export * from './batchHsic.js';
export * from './centeredGrams.js';
export * from './ckaMatrix.js';
export * from './gramEngine.js';
export * from './layers.js';
export * from './schedule.js';
export * from './fullDataMemory.js';
export { WorkerPoolGramEngine } from './parallel/workerPool.js';
export { chooseGramEngine, defaultGramEngine, gramFlops } from './parallel/chooseEngine.js';
export { firstPcVarianceFraction } from './principalComponent.js';
