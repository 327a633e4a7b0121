/**
 * Which layers of a model to record and compare.
 *
 * Hidden layers ('all'): every layer whose output is a representation, in the model's forward
 * (topological) order — convs, batch norms, ReLUs, adds, pools, including the final global
 * average pool (the penultimate representation). Left out: the input, zero-padding layers (a
 * padded copy of the layer before) and the model's output layer (the classifier's softmax).
 *
 * Block outputs ('blocks'): the output of the stem and of every block — layers named `…/out`
 * (this zoo: `stem/out`, `stage2/block3/out`, plain CNN `stage1/layer2/out`) or `…_out` (Keras:
 * `conv3_block4_out`), plus Keras' stem output `pool1_pool`. A plain CNN's blocks are its
 * conv layers, so its final global pool (the pooled features the classifier reads) is a block of
 * its own and is selected too.
 *
 * A model used as a layer (a nested functional or Sequential model) contributes its own layers,
 * named `outer/inner`; a layer applied more than once (shared weights) contributes each
 * application, the later ones named `layer#2`, `layer#3` … (see `layerOutputs`).
 *
 * A pattern picks hidden layers by name: a glob matched against the whole name (`*` any run of
 * characters but `/`, `**` any run, `?` one character but `/`, `{a,b}` either), e.g.
 * `stage3/block?/out`, `conv4_*_out`, `stage{1,3}/**` (in a shell, quote it); or a regular
 * expression between slashes, searched anywhere in the name (`/bn\d$/`, `/^stage3/i`).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { layerOutputs } from '../activations/layerStream.js';
import { InputError } from '../errors.js';

export type LayerSelection = 'all' | 'blocks' | { readonly pattern: string };

/** Layer classes whose output is no new representation. */
const PASS_THROUGH_CLASSES = new Set(['InputLayer', 'ZeroPadding2D']);
/** Keras applications' ResNet stem output: the max pool after conv1. */
const KERAS_STEM_OUTPUT = 'pool1_pool';

/** Hidden layer names in forward order (see the module comment for what counts). */
export function hiddenLayerNames(model: tfl.LayersModel): string[] {
  return hiddenLayers(model).map((output) => output.name);
}

function hiddenLayers(model: tfl.LayersModel): { name: string; className: string }[] {
  return layerOutputs(model).filter((output) => !PASS_THROUGH_CLASSES.has(output.className) && !output.isModelOutput);
}

/** Names of every layer output a comparison can record (hidden or not), as `streamLayerOutputs` names them. */
export function layerOutputNames(model: tfl.LayersModel): string[] {
  return layerOutputs(model).map((output) => output.name);
}

/** A plain CNN's conv units: `stage1/layer2/out` (possibly inside a nested model). */
const PLAIN_CNN_BLOCK = /(^|\/)stage\d+\/layer\d+\/out$/;
const GLOBAL_POOLING_CLASSES = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAveragePooling1D', 'GlobalMaxPooling1D']);

/** Stem and block outputs; for a plain CNN also its final global pool. */
function blockOutputs(hidden: readonly { name: string; className: string }[]): string[] {
  const blocks = hidden.filter((layer) => isBlockOutput(layer.name));
  if (blocks.length === 0 || !blocks.every((layer) => PLAIN_CNN_BLOCK.test(layer.name))) return blocks.map((layer) => layer.name);
  const lastBlock = hidden.indexOf(blocks.at(-1)!);
  const pool = hidden.slice(lastBlock + 1).reverse().find((layer) => GLOBAL_POOLING_CLASSES.has(layer.className));
  return [...blocks, ...(pool ? [pool] : [])].map((layer) => layer.name);
}

/** Whether a layer name marks the output of a stem or block. */
export function isBlockOutput(layerName: string): boolean {
  return /(^|\/)out$/.test(layerName) || /_out$/.test(layerName) || layerName === KERAS_STEM_OUTPUT;
}

/** 'all', 'blocks', or anything else as a pattern (CLI and settings text). */
export function parseLayerSelection(text: string): LayerSelection {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError("layer selection is empty: expected 'all', 'blocks', a glob like 'stage*/block*/out' or a /regex/", 'layers');
  if (trimmed === 'all' || trimmed === 'blocks') return trimmed;
  return { pattern: trimmed };
}

/** The names a selection picks from a model's hidden layers, in forward order; InputError when none. */
export function selectLayers(model: tfl.LayersModel, selection: LayerSelection): string[] {
  const layers = hiddenLayers(model);
  const hidden = layers.map((layer) => layer.name);
  if (selection === 'all') return hidden;
  if (selection === 'blocks') {
    const blocks = blockOutputs(layers);
    if (blocks.length === 0) throw new InputError(`model '${model.name}' has no layers named like block outputs (…/out, …_out): use 'all' or a pattern`, 'blocks');
    return blocks;
  }
  const matches = layerNameMatcher(selection.pattern);
  const chosen = hidden.filter(matches);
  if (chosen.length === 0) {
    const examples = hidden.slice(0, 4).join(', ');
    throw new InputError(
      `layer pattern '${selection.pattern}' matches none of the ${hidden.length} hidden layers of model '${model.name}' (they are named like ${examples}, …)`,
      selection.pattern,
    );
  }
  return chosen;
}

/** A predicate for a glob or a /regex/ (see the module comment); InputError for a malformed one. */
export function layerNameMatcher(pattern: string): (layerName: string) => boolean {
  const regexForm = /^\/(.+)\/([a-z]*)$/s.exec(pattern);
  if (regexForm) {
    const [, body, flags] = regexForm;
    if (!/^i?$/.test(flags)) throw new InputError(`layer pattern '${pattern}': the only regular-expression flag allowed is i`, pattern);
    let regex: RegExp;
    try {
      regex = new RegExp(body, flags);
    } catch (error) {
      throw new InputError(`layer pattern '${pattern}': not a valid regular expression (${(error as Error).message})`, pattern);
    }
    return (name) => regex.test(name);
  }
  const regex = new RegExp(`^${globToRegexSource(pattern)}$`);
  return (name) => regex.test(name);
}

function globToRegexSource(glob: string): string {
  let source = '';
  let braceDepth = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*') {
      if (glob[i + 1] === '*') {
        source += '.*';
        i++;
      } else {
        source += '[^/]*';
      }
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '{') {
      braceDepth++;
      source += '(?:';
    } else if (char === '}' && braceDepth > 0) {
      braceDepth--;
      source += ')';
    } else if (char === ',' && braceDepth > 0) {
      source += '|';
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  if (braceDepth > 0) throw new InputError(`layer pattern '${glob}': '{' without its '}'`, glob);
  return source;
}
