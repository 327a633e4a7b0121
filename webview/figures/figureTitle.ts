/**
 * What a figure says about how its numbers were computed: the measure and its settings in one
 * line, e.g. "Linear CKA (minibatch, batch 256, 1 pass, 10,000 examples)", and the short form
 * a legend entry uses ("linear, minibatch").
 */
import type { CkaSettings } from '../../src/protocol/results.js';

/** What a comparison carries about its computation (all absent for a heatmap still filling in). */
export interface MeasureInfo {
  readonly settings?: CkaSettings;
  readonly examples?: number;
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function measureTitle({ settings, examples }: MeasureInfo): string {
  if (settings === undefined) return examples === undefined ? 'CKA' : `CKA (${count(examples, 'example')})`;
  const kernel = settings.kernel === 'rbf' ? 'RBF' : 'Linear';
  const details: string[] = [];
  if (settings.kernel === 'rbf' && settings.threshold !== undefined) details.push(`threshold ${settings.threshold}`);
  details.push(settings.estimator);
  if (settings.estimator === 'minibatch') details.push(`batch ${settings.batchSize.toLocaleString('en-US')}`, count(settings.passes, 'pass', 'passes'));
  if (examples !== undefined) details.push(count(examples, 'example'));
  return `${kernel} CKA (${details.join(', ')})`;
}

export function shortMeasure({ settings }: MeasureInfo): string {
  return settings === undefined ? 'CKA' : `${settings.kernel}, ${settings.estimator}`;
}
