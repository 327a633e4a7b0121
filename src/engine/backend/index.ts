/**
 * Chooses, once per process, the fastest TensorFlow.js backend that loads here.
 *
 * The candidates are a plain ordered list, fastest first: adding one (say a WebGPU backend
 * through Dawn's `webgpu` package) is one entry. Every choice is reported with the reason the
 * faster candidates were skipped, so users can see why their run is slow.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from './wasmTrainingKernels.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

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

export const BACKEND_NAMES: readonly BackendName[] = BACKEND_CANDIDATES.map((c) => c.name);

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(value);
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

/**
 * Picks the backend once per process. `requested` is 'auto' (or undefined) for the fastest
 * that works, or a name to force; forcing a backend that cannot load is an error naming it.
 */
export function initBackend(requested: BackendName | 'auto' = 'auto'): Promise<BackendReport> {
  if (!chosen) {
    chosen = selectBackend(requested);
    chosen.catch(() => (chosen = undefined));
  }
  return chosen;
}

/** The report of the backend already chosen, if any. */
export async function currentBackend(): Promise<BackendReport | undefined> {
  return chosen;
}

async function selectBackend(requested: BackendName | 'auto'): Promise<BackendReport> {
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
    if (requested !== 'auto') throw new Error(`backend '${candidate.name}' (${candidate.packageName}) is not usable: ${reason}`);
    skipped.push({ name: candidate.name, reason });
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** One human-readable line: which backend runs and why the faster ones did not. */
export function formatBackendReport(report: BackendReport): string {
  const why = report.selection === 'forced' ? 'forced' : 'fastest available';
  const skipped = report.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  return `backend: ${report.name} (${report.description}; ${why})${skipped ? ` — skipped ${skipped}` : ''}`;
}
