/**
 * Which of an ONNX model's candidate layers to compare:
 *
 * - `all`: every candidate (every float node output with a batch axis), in forward order.
 * - `blocks`: a default for residual networks: the output of each residual addition (an Add of
 *   two activations), or of the nonlinearity right after it when that is the addition's only
 *   reader (PyTorch's and Keras' blocks end in a ReLU after the add); the block input of the
 *   first residual addition (the stem's output); and every pooling. A network without residual
 *   additions gets its nonlinearities and poolings.
 * - `op:Relu,Add`: candidates of these op types (any case).
 * - a glob or a /regex/ over the names, as for TensorFlow.js models (`blocks.*.relu2`,
 *   `/relu\d$/`; see layerSelection.ts).
 */
import { InputError } from '../../errors.js';
import { layerNameMatcher, parseLayerSelection, type LayerSelection } from '../../models/layerSelection.js';
import type { OnnxLayerCandidate } from './candidates.js';

export type OnnxLayerSelection = LayerSelection | { readonly ops: readonly string[] };

const OP_PREFIX = /^op:/i;

/** 'all', 'blocks', 'op:Relu,Add', or a glob / regex (CLI and experiment-file text). */
export function parseOnnxLayerSelection(text: string): OnnxLayerSelection {
  const trimmed = text.trim();
  if (OP_PREFIX.test(trimmed)) {
    const ops = trimmed
      .replace(OP_PREFIX, '')
      .split(',')
      .map((op) => op.trim())
      .filter(Boolean);
    if (ops.length === 0) throw new InputError(`layer selection '${trimmed}': name op types after 'op:', e.g. op:Relu,Add`, 'layers');
    return { ops };
  }
  return parseLayerSelection(trimmed);
}

/** Elementwise nonlinearities, as ONNX exporters write them. */
export const NONLINEAR_OPS: ReadonlySet<string> = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Mish', 'Clip', 'ThresholdedRelu',
]);
export const POOLING_OPS: ReadonlySet<string> = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'AveragePool', 'MaxPool', 'LpPool']);
const ADD_OPS = new Set(['Add', 'Sum']);

function describe(candidates: readonly OnnxLayerCandidate[]): string {
  const shown = candidates.slice(0, 5).map((c) => `${c.name} (${c.opType})`);
  return `${shown.join(', ')}${candidates.length > shown.length ? ', …' : ''}`;
}

/** The candidates a selection picks, in forward order; an InputError naming `source` (the model file) when none. */
export function selectOnnxLayers(source: string, candidates: readonly OnnxLayerCandidate[], selection: OnnxLayerSelection): OnnxLayerCandidate[] {
  if (candidates.length === 0) throw new InputError(`${source}: the model has no layers to compare (no float node output with a batch axis)`, source);
  if (selection === 'all') return [...candidates];
  if (selection === 'blocks') {
    const blocks = blockLayers(candidates);
    if (blocks.length === 0) {
      throw new InputError(`${source}: layer selection 'blocks' finds no residual additions, nonlinearities or poolings among the ${candidates.length} layers (${describe(candidates)}): use 'all', op:TYPE or a pattern`, source);
    }
    return blocks;
  }
  if ('ops' in selection) {
    const wanted = new Set(selection.ops.map((op) => op.toLowerCase()));
    const chosen = candidates.filter((c) => wanted.has(c.opType.toLowerCase()));
    if (chosen.length === 0) {
      const types = [...new Set(candidates.map((c) => c.opType))];
      throw new InputError(`${source}: layer selection 'op:${selection.ops.join(',')}' matches none of the ${candidates.length} layers; their op types are ${types.join(', ')}`, source);
    }
    return chosen;
  }
  const matches = layerNameMatcher(selection.pattern);
  const chosen = candidates.filter((c) => matches(c.name));
  if (chosen.length === 0) {
    throw new InputError(`${source}: layer pattern '${selection.pattern}' matches none of the ${candidates.length} layers (they are named like ${describe(candidates)})`, source);
  }
  return chosen;
}

/** The 'blocks' selection (see the module comment); empty when the rule finds nothing. */
export function blockLayers(candidates: readonly OnnxLayerCandidate[]): OnnxLayerCandidate[] {
  const byValue = new Map(candidates.map((c) => [c.value, c]));
  const residual = candidates.filter((c) => ADD_OPS.has(c.opType) && new Set(c.inputs.filter((i) => byValue.has(i))).size >= 2);
  const picked = new Set<OnnxLayerCandidate>();
  if (residual.length > 0) {
    const stem = blockInput(residual[0], byValue);
    if (stem) picked.add(stem);
    for (const add of residual) {
      const after = add.consumers.length === 1 && NONLINEAR_OPS.has(add.consumers[0]) && !add.isOutput ? candidates.find((c) => NONLINEAR_OPS.has(c.opType) && c.inputs.includes(add.value)) : undefined;
      picked.add(after ?? add);
    }
  } else {
    for (const c of candidates) if (NONLINEAR_OPS.has(c.opType)) picked.add(c);
  }
  for (const c of candidates) if (POOLING_OPS.has(c.opType)) picked.add(c);
  return [...picked].sort((a, b) => a.index - b.index);
}

/** The latest value both inputs of a residual addition descend from (the block's input), if it is a candidate. */
function blockInput(add: OnnxLayerCandidate, byValue: ReadonlyMap<string, OnnxLayerCandidate>): OnnxLayerCandidate | undefined {
  const [a, b] = [...new Set(add.inputs.filter((i) => byValue.has(i)))];
  const ancestors = (value: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [value];
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const i of byValue.get(v)?.inputs ?? []) if (byValue.has(i)) stack.push(i);
    }
    return seen;
  };
  const fromA = ancestors(a);
  let best: OnnxLayerCandidate | undefined;
  for (const v of ancestors(b)) {
    if (!fromA.has(v)) continue;
    const c = byValue.get(v)!;
    if (!best || c.index > best.index) best = c;
  }
  return best;
}
