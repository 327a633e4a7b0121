/**
 * PNG thumbnails of a run's evaluation examples, for a cell's drill-down: the comparison's
 * dataset images, or its `data.inputs` when they are images. Activation-file comparisons have no
 * images. Bad input (an unknown comparison, an example out of range) is an InputError.
 */
import { InputError } from '../../engine/errors.js';
import type { ExampleThumbnail } from '../../protocol/webview.js';
import { thumbnailDataUrl } from '../output/thumbnailPng.js';
import { datasetExampleImages, inputsExampleImages, type ExampleImages } from './exampleImages.js';
import type { RunSetup } from './experimentRunner.js';
import { comparesActivationFiles, findComparison, type RunSources } from './runSources.js';

export interface ThumbnailsRequest {
  readonly runId: string;
  readonly comparison: string;
  readonly examples: readonly number[];
}

export async function exampleThumbnails(request: ThumbnailsRequest, setup: RunSetup, sources: RunSources): Promise<ExampleThumbnail[]> {
  const spec = findComparison(request.runId, setup, request.comparison);
  if (comparesActivationFiles(setup, spec)) {
    throw new InputError(`comparison '${request.comparison}' compares activation files: it has no images of its examples`, request.comparison);
  }
  const { data } = setup;
  const images: ExampleImages =
    data.inputs !== undefined ? inputsExampleImages(await sources.inputs(data.inputs), data.inputs, data.evaluationExamples) : datasetExampleImages(await sources.dataset(data), data.evaluationExamples);
  for (const example of request.examples) {
    if (!Number.isInteger(example) || example < 0 || example >= images.count) {
      throw new InputError(`examples: example ${example} is out of range: comparison '${request.comparison}' has ${images.count} evaluation examples (0‥${images.count - 1})`, 'examples');
    }
  }
  return request.examples.map((example) => ({ example, dataUrl: thumbnailDataUrl(images.image(example)) }));
}
