/**
 * Where each experiment of a `*.repsim.json` file sits in its text (for CodeLens), read with
 * jsonc-parser so it works on files with comments, trailing commas and errors being typed.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
// The ESM build: esbuild cannot bundle jsonc-parser's UMD main (it requires its parts at run time).
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser/lib/esm/main.js';
import { LineIndex, type TextRange } from '../util/textPositions.js';

export interface ExperimentLocation {
  /** Index in `experiments`. */
  readonly index: number;
  /** The experiment's name, when it has a non-empty string one. */
  readonly name?: string;
  /** Its `output` folder as written (relative paths resolve against the file). */
  readonly output?: string;
  /** The object's extent in the text. */
  readonly offset: number;
  readonly length: number;
  /** The same as a range; CodeLens sit on its first line. */
  readonly range: TextRange;
}

export function parseJsonc(text: string): Node | undefined {
  return parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
}

function stringAt(node: Node, key: string): string | undefined {
  const value = findNodeAtLocation(node, [key]);
  return value?.type === 'string' && typeof value.value === 'string' && value.value !== '' ? value.value : undefined;
}

export function locateExperiments(text: string): ExperimentLocation[] {
  const root = parseJsonc(text);
  const list = root && findNodeAtLocation(root, ['experiments']);
  if (!list || list.type !== 'array') return [];
  const lines = new LineIndex(text);
  return (list.children ?? []).flatMap((node, index) =>
    node.type === 'object'
      ? [{ index, name: stringAt(node, 'name'), output: stringAt(node, 'output'), offset: node.offset, length: node.length, range: lines.rangeOf(node.offset, node.length) }]
      : [],
  );
}

/** The results folder a run of this experiment writes (as the server decides it). */
export function experimentOutputDirectory(filePath: string, experiment: { readonly name: string; readonly output?: string }): string {
  if (experiment.output) return isAbsolute(experiment.output) ? experiment.output : resolve(dirname(filePath), experiment.output);
  return join(dirname(filePath), 'repsim-results', experiment.name);
}

export function experimentResultsFile(filePath: string, experiment: { readonly name: string; readonly output?: string }): string {
  return join(experimentOutputDirectory(filePath, experiment), 'results.json');
}

export const EXPERIMENT_FILE_SUFFIX = '.repsim.json';

export function isExperimentFilePath(path: string): boolean {
  return path.toLowerCase().endsWith(EXPERIMENT_FILE_SUFFIX);
}
