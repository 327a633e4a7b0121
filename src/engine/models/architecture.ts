/**
 * Architecture specs: what to build, as data, and their short text names.
 *
 * Names (case-insensitive when parsed; `architectureName` writes the canonical form):
 *   resnet-20, resnet-56-w4, resnet-110-w0.5   CIFAR ResNet, depth 6n+2, width multiplier k
 *   resnet-cifar-50                            the same family, spelled out (needed for depths 50
 *                                              and 152, which otherwise name the bottleneck ResNets)
 *   resnet-50, resnet-101, resnet-152          bottleneck ResNet v1 as in Keras applications
 *   plain-cnn-10, plain-cnn-10-w4              plain CNN, depth 3n+1, width multiplier k
 */
import { InputError } from '../errors.js';

export type ArchitectureSpec =
  /** He et al. 2016 §4.2 / Nguyen, Raghu & Kornblith 2021: basic blocks, 16k·32k·64k channels. */
  | { readonly family: 'resnet-cifar'; readonly depth: number; readonly widthMultiplier?: number }
  /** Keras applications ResNet50/101/152 (v1, bottleneck blocks). */
  | { readonly family: 'resnet'; readonly depth: BottleneckDepth }
  /** 3×3 conv–BN–ReLU layers in three stages, no shortcuts (Kornblith et al. 2019-style). */
  | { readonly family: 'plain-cnn'; readonly depth?: number; readonly widthMultiplier?: number };

export type ArchitectureFamily = ArchitectureSpec['family'];
export type BottleneckDepth = 50 | 101 | 152;

/** A spec with every default filled in and every field checked. */
export type NormalizedArchitecture =
  | { readonly family: 'resnet-cifar'; readonly depth: number; readonly widthMultiplier: number }
  | { readonly family: 'resnet'; readonly depth: BottleneckDepth }
  | { readonly family: 'plain-cnn'; readonly depth: number; readonly widthMultiplier: number };

export const BOTTLENECK_DEPTHS: readonly BottleneckDepth[] = [50, 101, 152];
export const DEFAULT_PLAIN_CNN_DEPTH = 10;
/** Above this the models stop fitting in memory anyway (64× gives 4096 channels in stage 3). */
export const MAX_WIDTH_MULTIPLIER = 64;

/** One line listing every accepted form, for error messages and help text. */
export const ARCHITECTURE_FORMS =
  'resnet-<6n+2>[-w<k>] (CIFAR ResNet, e.g. resnet-20, resnet-56-w4; resnet-cifar-<6n+2>[-w<k>] also works), ' +
  'resnet-50 | resnet-101 | resnet-152 (bottleneck ResNet, Keras applications), ' +
  'plain-cnn-<3n+1>[-w<k>] (plain CNN, e.g. plain-cnn-10)';

/** The number of basic blocks per stage of a CIFAR ResNet: depth = 6n + 2. */
export function cifarBlocksPerStage(depth: number): number {
  return (depth - 2) / 6;
}

/** The number of conv layers per stage of a plain CNN: depth = 3n + 1 (n convs × 3 stages + dense). */
export function plainLayersPerStage(depth: number): number {
  return (depth - 1) / 3;
}

/**
 * Channels for a width multiplier, as the reference does: `int(round(16 * width_multiplier))`
 * (Python 3 rounds halves to even), then ×2 per stage.
 */
export function baseChannels(widthMultiplier: number): number {
  const scaled = 16 * widthMultiplier;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function invalid(text: string, why: string): InputError {
  return new InputError(`architecture '${text}': ${why}; expected ${ARCHITECTURE_FORMS}`, text);
}

function checkCifarDepth(depth: number, label: string): void {
  if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
    throw invalid(label, `depth ${depth} is not 6n+2 with n ≥ 1 (valid: 8, 14, 20, 26, 32, 44, 56, 110, …)`);
  }
}

function checkPlainDepth(depth: number, label: string): void {
  if (!Number.isInteger(depth) || depth < 4 || (depth - 1) % 3 !== 0) {
    throw invalid(label, `depth ${depth} is not 3n+1 with n ≥ 1 (valid: 4, 7, 10, 13, 16, …)`);
  }
}

function checkWidth(widthMultiplier: number, label: string): void {
  if (!Number.isFinite(widthMultiplier) || widthMultiplier > MAX_WIDTH_MULTIPLIER || baseChannels(widthMultiplier) < 1) {
    throw invalid(label, `width multiplier ${widthMultiplier} must give at least one channel (16·k rounds to ≥ 1) and be at most ${MAX_WIDTH_MULTIPLIER}`);
  }
}

/** Fills in defaults and checks every field; throws InputError for a spec that cannot be built. */
export function normalizeArchitecture(spec: ArchitectureSpec): NormalizedArchitecture {
  return normalize(spec, describeForError(spec));
}

/** `label` is what error messages call the spec: the text the user typed, or the spec as JSON. */
function normalize(spec: ArchitectureSpec, label: string): NormalizedArchitecture {
  switch (spec.family) {
    case 'resnet-cifar': {
      const widthMultiplier = spec.widthMultiplier ?? 1;
      checkCifarDepth(spec.depth, label);
      checkWidth(widthMultiplier, label);
      return { family: 'resnet-cifar', depth: spec.depth, widthMultiplier };
    }
    case 'resnet':
      if (!BOTTLENECK_DEPTHS.includes(spec.depth)) throw invalid(label, `the bottleneck ResNet comes in depths ${BOTTLENECK_DEPTHS.join(', ')}`);
      return { family: 'resnet', depth: spec.depth };
    case 'plain-cnn': {
      const depth = spec.depth ?? DEFAULT_PLAIN_CNN_DEPTH;
      const widthMultiplier = spec.widthMultiplier ?? 1;
      checkPlainDepth(depth, label);
      checkWidth(widthMultiplier, label);
      return { family: 'plain-cnn', depth, widthMultiplier };
    }
    default:
      throw invalid(label, `unknown family '${(spec as { family?: unknown }).family}'`);
  }
}

function describeForError(spec: ArchitectureSpec): string {
  try {
    return JSON.stringify(spec);
  } catch {
    return String(spec);
  }
}

const WIDTH_SUFFIX = '(?:-w(\\d+(?:\\.\\d+)?))?';
const CIFAR_EXPLICIT = new RegExp(`^resnet-cifar-?(\\d+)${WIDTH_SUFFIX}$`);
const RESNET = new RegExp(`^resnet-?(\\d+)${WIDTH_SUFFIX}$`);
const PLAIN = new RegExp(`^plain-cnn(?:-(\\d+))?${WIDTH_SUFFIX}$`);

/** Parses 'resnet-20', 'resnet-56-w4', 'resnet-50', 'plain-cnn-10' …; InputError listing the valid forms otherwise. */
export function parseArchitecture(text: string): NormalizedArchitecture {
  const name = text.trim().toLowerCase();
  const width = (group: string | undefined): number | undefined => (group === undefined ? undefined : Number(group));

  let match = CIFAR_EXPLICIT.exec(name);
  if (match) return normalize({ family: 'resnet-cifar', depth: Number(match[1]), widthMultiplier: width(match[2]) }, text);

  match = RESNET.exec(name);
  if (match) {
    const depth = Number(match[1]);
    if ((BOTTLENECK_DEPTHS as readonly number[]).includes(depth)) {
      if (match[2] !== undefined) {
        throw invalid(text, `the bottleneck ResNet-${depth} has no width multiplier (for the CIFAR ResNet of depth ${depth} write resnet-cifar-${depth}-w${match[2]})`);
      }
      return { family: 'resnet', depth: depth as BottleneckDepth };
    }
    return normalize({ family: 'resnet-cifar', depth, widthMultiplier: width(match[2]) }, text);
  }

  match = PLAIN.exec(name);
  if (match) {
    const depth = match[1] === undefined ? undefined : Number(match[1]);
    return normalize({ family: 'plain-cnn', depth, widthMultiplier: width(match[2]) }, text);
  }

  throw invalid(text, 'not a known architecture name');
}

/** The canonical name of a spec; `parseArchitecture(architectureName(s))` equals `normalizeArchitecture(s)`. */
export function architectureName(spec: ArchitectureSpec): string {
  const normalized = normalizeArchitecture(spec);
  switch (normalized.family) {
    case 'resnet':
      return `resnet-${normalized.depth}`;
    case 'resnet-cifar': {
      // Depths 50 and 152 are also 6n+2: spell the family out so the name cannot mean the bottleneck ResNet.
      const prefix = (BOTTLENECK_DEPTHS as readonly number[]).includes(normalized.depth) ? 'resnet-cifar' : 'resnet';
      return `${prefix}-${normalized.depth}${widthSuffix(normalized.widthMultiplier)}`;
    }
    case 'plain-cnn':
      return `plain-cnn-${normalized.depth}${widthSuffix(normalized.widthMultiplier)}`;
  }
}

function widthSuffix(widthMultiplier: number): string {
  return widthMultiplier === 1 ? '' : `-w${String(widthMultiplier)}`;
}
