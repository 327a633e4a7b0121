/**
 * Chooses, once per process, the fastest TensorFlow.js backend that loads here.
 *
 * The candidates are a plain ordered list, fastest first: adding one (say a WebGPU backend
 * through Dawn's `webgpu` package) is one entry. Every choice is reported with the reason the
 * faster candidates were skipped, so users can see why their run is slow.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import { OnnxRuntime, PROVIDER_NAMES, formatOnnxRuntimeReport, type OnnxRuntimeReport, type ProviderName } from '../onnx/runtime.js';
import { registerWasmTrainingKernels } from './wasmTrainingKernels.js';

/** A TensorFlow.js backend (training, and everything where ONNX Runtime cannot run). */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
/** An ONNX Runtime execution provider, forced by `--backend onnx-<provider>`. */
export type OnnxBackendName = `onnx-${ProviderName}`;
/** What `--backend`, `REPSIM_BACKEND` and the `repsim.backend` setting take. */
export type RequestedBackend = BackendName | OnnxBackendName | 'auto';

export interface BackendCandidate {
  /** RepSim's name for it (what `--backend` and the `repsim.backend` setting take). */
  readonly name: BackendName;
  /** The npm package that provides it. */
  readonly packageName: string;
  /** The name TensorFlow.js registers it under. */
  readonly tfjsName: string;
  readonly description: string;
  /** Loads the package so that it registers its backend; throws when it cannot. */
  load(): Promise<void>;
  /** Extra check after `tf.setBackend` succeeded; returns a reason to skip, or null. */
  verify?(): string | null;
}

export interface BackendSkip {
  readonly name: BackendName;
  readonly reason: string;
}

export interface BackendReport {
  readonly name: BackendName;
  readonly tfjsName: string;
  readonly packageName: string;
  readonly description: string;
  /** 'auto' when chosen as the fastest that loaded, 'forced' when asked for by name. */
  readonly selection: 'auto' | 'forced';
  /** Faster candidates that were tried and skipped, with why. */
  readonly skipped: readonly BackendSkip[];
  readonly tfjsVersion: string;
  /** ONNX Runtime, which computes activations and similarity where it runs; null where it does not. */
  readonly onnx: OnnxRuntimeReport | null;
  /** Why ONNX Runtime does not run (everything then runs on TensorFlow.js); null when it does. */
  readonly onnxUnavailable: string | null;
}

function requirePackage(packageName: string): void {
  // A plain require keeps the package out of the bundle (esbuild marks @tensorflow/* external)
  // and shares the one tfjs-core instance that npm dedupes.
  require(packageName);
}

function gpuDeviceVisible(): string | null {
  // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; ask TensorFlow which
  // devices it sees rather than trust that the package loaded.
  const backend = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
  const usesGpu = backend.binding?.isUsingGpuDevice?.();
  if (usesGpu === false) return 'tfjs-node-gpu loaded but TensorFlow found no usable CUDA GPU';
  return null;
}

export const BACKEND_CANDIDATES: readonly BackendCandidate[] = [
  {
    name: 'tensorflow-gpu',
    packageName: '@tensorflow/tfjs-node-gpu',
    tfjsName: 'tensorflow',
    description: 'native TensorFlow with CUDA',
    load: async () => requirePackage('@tensorflow/tfjs-node-gpu'),
    verify: gpuDeviceVisible,
  },
  {
    name: 'tensorflow',
    packageName: '@tensorflow/tfjs-node',
    tfjsName: 'tensorflow',
    description: 'native TensorFlow on the CPU',
    load: async () => requirePackage('@tensorflow/tfjs-node'),
  },
  {
    name: 'wasm',
    packageName: '@tensorflow/tfjs-backend-wasm',
    tfjsName: 'wasm',
    description: 'WebAssembly with SIMD (XNNPACK), one thread per process in Node',
    load: async () => {
      requirePackage('@tensorflow/tfjs-backend-wasm');
      // Stock tfjs-backend-wasm cannot train conv nets (no conv filter gradient; slow input and
      // batch-norm gradients): add ours, over the stock kernels the package just registered.
      registerWasmTrainingKernels();
    },
  },
  {
    name: 'cpu',
    packageName: '@tensorflow/tfjs-backend-cpu',
    tfjsName: 'cpu',
    description: 'plain JavaScript (slowest, always available)',
    load: async () => requirePackage('@tensorflow/tfjs-backend-cpu'),
  },
];

export const TFJS_BACKEND_NAMES: readonly BackendName[] = BACKEND_CANDIDATES.map((c) => c.name);
export const ONNX_BACKEND_NAMES: readonly OnnxBackendName[] = PROVIDER_NAMES.map((name) => `onnx-${name}` as const);
/** Every name `--backend` takes besides 'auto': ONNX Runtime providers first, then TensorFlow.js backends. */
export const BACKEND_NAMES: readonly (BackendName | OnnxBackendName)[] = [...ONNX_BACKEND_NAMES, ...TFJS_BACKEND_NAMES];

export function isBackendName(value: string): value is BackendName | OnnxBackendName {
  return (BACKEND_NAMES as readonly string[]).includes(value);
}

export function isTfjsBackendName(value: string): value is BackendName {
  return (TFJS_BACKEND_NAMES as readonly string[]).includes(value);
}

function describeError(error: unknown): string {
  const err = error as { code?: string; message?: string };
  if (err?.code === 'MODULE_NOT_FOUND') return 'package not installed (its install needs a download that failed or was skipped)';
  const message = String(err?.message ?? error).split('\n')[0];
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

async function tryCandidate(candidate: BackendCandidate): Promise<string | null> {
  try {
    await candidate.load();
  } catch (error) {
    return describeError(error);
  }
  try {
    const ok = await tf.setBackend(candidate.tfjsName);
    if (!ok) return `tf.setBackend('${candidate.tfjsName}') failed to initialise`;
    await tf.ready();
  } catch (error) {
    return describeError(error);
  }
  return candidate.verify?.() ?? null;
}

let chosen: Promise<BackendReport> | undefined;
let onnxRuntime: OnnxRuntime | null = null;

/**
 * Picks the backends once per process. `requested` is 'auto' (or undefined) for the fastest
 * that works, or a name to force; forcing a backend that cannot load is an error naming it.
 * A TensorFlow.js name runs everything on TensorFlow.js; an `onnx-*` name forces that ONNX
 * Runtime provider (TensorFlow.js, for training, is then chosen automatically).
 */
export function initBackend(requested: RequestedBackend = 'auto'): Promise<BackendReport> {
  if (!chosen) {
    chosen = selectBackends(requested);
    chosen.catch(() => (chosen = undefined));
  }
  return chosen;
}

/** The report of the backend already chosen, if any. */
export async function currentBackend(): Promise<BackendReport | undefined> {
  return chosen;
}

/** The ONNX Runtime chosen by `initBackend`, or null where it does not run (or was not asked for). */
export function currentOnnxRuntime(): OnnxRuntime | null {
  return onnxRuntime;
}

async function selectBackends(requested: RequestedBackend): Promise<BackendReport> {
  const tfjs = await selectBackend(isTfjsBackendName(requested) ? requested : 'auto');
  if (isTfjsBackendName(requested)) {
    return { ...tfjs, onnx: null, onnxUnavailable: `--backend ${requested} runs everything on TensorFlow.js` };
  }
  const provider = requested === 'auto' ? 'auto' : (requested.slice('onnx-'.length) as ProviderName);
  try {
    onnxRuntime = await OnnxRuntime.start({ provider, tensorrt: process.env.REPSIM_TENSORRT === '1' });
    return { ...tfjs, onnx: onnxRuntime.report, onnxUnavailable: null };
  } catch (error) {
    if (requested !== 'auto') throw new InputError(String((error as Error)?.message ?? error), 'backend');
    return { ...tfjs, onnx: null, onnxUnavailable: String((error as Error)?.message ?? error) };
  }
}

type TfjsReport = Omit<BackendReport, 'onnx' | 'onnxUnavailable'>;

async function selectBackend(requested: BackendName | 'auto'): Promise<TfjsReport> {
  const skipped: BackendSkip[] = [];
  const candidates = requested === 'auto' ? BACKEND_CANDIDATES : BACKEND_CANDIDATES.filter((c) => c.name === requested);
  if (candidates.length === 0) {
    throw new Error(`unknown backend '${requested}': expected one of auto, ${BACKEND_NAMES.join(', ')}`);
  }
  for (const candidate of candidates) {
    const reason = await tryCandidate(candidate);
    if (reason === null) {
      return {
        name: candidate.name,
        tfjsName: candidate.tfjsName,
        packageName: candidate.packageName,
        description: candidate.description,
        selection: requested === 'auto' ? 'auto' : 'forced',
        skipped,
        tfjsVersion: tf.version_core,
      };
    }
    if (requested !== 'auto') throw new InputError(`backend '${candidate.name}' (${candidate.packageName}) is not usable: ${reason}`, 'backend');
    skipped.push({ name: candidate.name, reason });
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/**
 * Human-readable lines: what computes activations and similarity (ONNX Runtime's provider, or
 * TensorFlow.js and why), what trains, and why faster candidates were skipped.
 */
export function formatBackendReport(report: BackendReport): string {
  const why = report.selection === 'forced' ? 'forced' : 'fastest available';
  const skipped = report.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  const tfjs = `TensorFlow.js ${report.name} (${report.description}; ${why})${skipped ? ` — skipped ${skipped}` : ''}`;
  const compute = report.onnx ? `compute: ${formatOnnxRuntimeReport(report.onnx)}` : `compute: TensorFlow.js ${report.name} — ONNX Runtime not used: ${report.onnxUnavailable}`;
  return `${compute}\ntraining: ${tfjs}`;
}

/** A short name for what computes activations and similarity: 'onnx-cpu', or the TF.js backend. */
export function computeBackendName(report: BackendReport): BackendName | OnnxBackendName {
  return report.onnx ? `onnx-${report.onnx.provider}` : report.name;
}
