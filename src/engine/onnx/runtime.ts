/**
 * ONNX Runtime (`onnxruntime-node`) for RepSim's activations and similarity: which execution
 * provider runs here, and a session cache keyed by what a graph computes.
 *
 * The providers are a plain ordered list, fastest first (CUDA, TensorRT when asked for,
 * DirectML, CoreML, CPU). Each is verified by running a tiny graph on it, and the report says
 * which runs and why the faster ones were skipped. Where the package cannot load at all (macOS
 * x64 has no binary), the caller falls back to TensorFlow.js with the reason.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { KernelSpec } from '../similarity/kernel.js';
import { GraphBuilder } from './graph.js';

export type OrtModule = typeof Ort;
export type ProviderName = 'cuda' | 'tensorrt' | 'dml' | 'coreml' | 'cpu';

export interface ProviderCandidate {
  readonly name: ProviderName;
  readonly description: string;
  /** Platforms onnxruntime-node ships this provider for. */
  readonly platforms: readonly NodeJS.Platform[];
  /** Tried by 'auto' only when asked for (TensorRT builds engines for minutes on first use). */
  readonly optIn?: boolean;
  /** The provider's shared library, when it is installed separately from the package. */
  readonly library?: (bindingDir: string) => string | null;
}

function providerLibrary(stem: string): (bindingDir: string) => string | null {
  return (bindingDir) => {
    const file = process.platform === 'win32' ? `${stem}.dll` : `lib${stem}.so`;
    return join(bindingDir, file);
  };
}

/** The command that installs the CUDA 12 provider into node_modules (documented in the README). */
export const CUDA_INSTALL_COMMAND = 'npm run install:cuda';

export const PROVIDER_CANDIDATES: readonly ProviderCandidate[] = [
  { name: 'cuda', description: 'NVIDIA GPU (CUDA 12, cuDNN 9)', platforms: ['linux', 'win32'], library: providerLibrary('onnxruntime_providers_cuda') },
  { name: 'tensorrt', description: 'NVIDIA GPU (TensorRT)', platforms: ['linux', 'win32'], optIn: true, library: providerLibrary('onnxruntime_providers_tensorrt') },
  { name: 'dml', description: 'GPU through DirectML', platforms: ['win32'] },
  { name: 'coreml', description: 'Apple Neural Engine / GPU through CoreML', platforms: ['darwin'] },
  { name: 'cpu', description: 'CPU (MLAS)', platforms: ['linux', 'win32', 'darwin'] },
];

export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDER_CANDIDATES.map((c) => c.name);

export interface ProviderSkip {
  readonly name: ProviderName;
  readonly reason: string;
}

export interface OnnxRuntimeReport {
  readonly runtime: 'onnxruntime';
  readonly provider: ProviderName;
  readonly description: string;
  readonly selection: 'auto' | 'forced';
  readonly skipped: readonly ProviderSkip[];
  /** Intra-op threads per session (this machine's cores on the CPU provider). */
  readonly threads: number;
  readonly version: string;
}

export interface OnnxRuntimeOptions {
  /** 'auto' for the fastest provider that runs, or one to force (an error when it cannot run). */
  readonly provider?: ProviderName | 'auto';
  /** Let 'auto' try TensorRT before CUDA. */
  readonly tensorrt?: boolean;
  /** Intra-op threads (default: all cores). */
  readonly threads?: number;
}

/** Loads onnxruntime-node; throws with the reason when it cannot load here. */
export function loadOrtModule(): OrtModule {
  // A plain require keeps the package (and its native addon) out of the bundle.
  const ort = require('onnxruntime-node') as OrtModule;
  // Failures come back as exceptions whose messages RepSim reports; the native logger would
  // also print them (e.g. a missing CUDA library while probing providers) to stderr.
  ort.env.logLevel = 'fatal';
  return ort;
}

function bindingDirectory(): string {
  const packageJson = require.resolve('onnxruntime-node/package.json');
  return join(dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch);
}

function describeError(error: unknown): string {
  const err = error as { code?: string; message?: string };
  if (err?.code === 'MODULE_NOT_FOUND') return 'onnxruntime-node is not installed, or has no binary for this platform';
  const message = String(err?.message ?? error).split('\n')[0];
  return message.length > 240 ? `${message.slice(0, 240)}…` : message;
}

/** A graph that adds its input to itself: enough to prove a provider runs kernels. */
function probeModel(): Uint8Array {
  const g = new GraphBuilder('repsim_probe');
  const x = g.input('x', 'float32', [4]);
  g.output(g.op('Add', [x, x], {}, { outputNames: ['y'] }), 'float32', [4]);
  return g.encode();
}

async function verifyProvider(ort: OrtModule, candidate: ProviderCandidate): Promise<string | null> {
  if (!candidate.platforms.includes(process.platform)) return `not available on ${process.platform}`;
  const library = candidate.library?.(bindingDirectory());
  if (library && !existsSync(library)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') return `onnxruntime-node ships no ${candidate.name} provider for ${process.platform}-${process.arch}`;
    return `the CUDA 12 provider is not installed (${CUDA_INSTALL_COMMAND} downloads it; it needs CUDA 12 and cuDNN 9)`;
  }
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [candidate.name], logSeverityLevel: 4 });
    const input = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]);
    const output = (await session.run({ x: input })).y.data as Float32Array;
    await session.release();
    if (output[3] !== 8) return `the probe graph gave a wrong result (${Array.from(output).join(', ')})`;
    return null;
  } catch (error) {
    return describeError(error);
  }
}

export class OnnxRuntime {
  private readonly sessions = new Map<string, Promise<{ session: Ort.InferenceSession; meta: unknown }>>();

  private constructor(
    readonly ort: OrtModule,
    readonly report: OnnxRuntimeReport,
  ) {}

  /** Picks the execution provider (see the module comment). */
  static async start(options: OnnxRuntimeOptions = {}): Promise<OnnxRuntime> {
    let ort: OrtModule;
    try {
      ort = loadOrtModule();
    } catch (error) {
      throw new Error(`ONNX Runtime cannot load here: ${describeError(error)}`);
    }
    const requested = options.provider ?? 'auto';
    const candidates =
      requested === 'auto'
        ? PROVIDER_CANDIDATES.filter((c) => !c.optIn || options.tensorrt)
        : PROVIDER_CANDIDATES.filter((c) => c.name === requested);
    if (candidates.length === 0) throw new Error(`unknown ONNX Runtime provider '${requested}': expected one of ${PROVIDER_NAMES.join(', ')}`);
    const skipped: ProviderSkip[] = [];
    for (const candidate of candidates) {
      const reason = await verifyProvider(ort, candidate);
      if (reason === null) {
        const threads = options.threads ?? availableParallelism();
        return new OnnxRuntime(ort, {
          runtime: 'onnxruntime',
          provider: candidate.name,
          description: candidate.description,
          selection: requested === 'auto' ? 'auto' : 'forced',
          skipped,
          threads,
          version: ort.env.versions?.node ?? 'unknown',
        });
      }
      if (requested !== 'auto') throw new Error(`ONNX Runtime provider '${candidate.name}' cannot run here: ${reason}`);
      skipped.push({ name: candidate.name, reason });
    }
    throw new Error(`no ONNX Runtime provider could run: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  }

  /** The same runtime with another intra-op thread count (sessions are cached per runtime). */
  withThreads(threads: number): OnnxRuntime {
    return threads === this.report.threads ? this : new OnnxRuntime(this.ort, { ...this.report, threads });
  }

  get provider(): ProviderName {
    return this.report.provider;
  }

  /**
   * The session for a graph, created once per key (what the graph computes and the shapes it
   * was built for) and reused; `build` runs only on the first request for the key, and what it
   * returns besides the bytes (e.g. the graph's input and output names) comes back every time.
   */
  sessionWith<M>(key: string, build: () => { readonly bytes: Uint8Array; readonly meta: M }): Promise<{ readonly session: Ort.InferenceSession; readonly meta: M }> {
    let entry = this.sessions.get(key) as Promise<{ session: Ort.InferenceSession; meta: M }> | undefined;
    if (!entry) {
      entry = (async () => {
        const { bytes, meta } = build();
        return { session: await this.ort.InferenceSession.create(bytes, this.sessionOptions()), meta };
      })();
      entry.catch(() => this.sessions.delete(key));
      this.sessions.set(key, entry);
    }
    return entry;
  }

  /** Frees the session cached under `key` (a model's graph once its comparison is over). */
  async release(key: string): Promise<void> {
    const entry = this.sessions.get(key);
    this.sessions.delete(key);
    await (await entry?.catch(() => null))?.session.release();
  }

  /** `sessionWith` for a graph whose names the caller knows. */
  async session(key: string, build: () => Uint8Array): Promise<Ort.InferenceSession> {
    return (await this.sessionWith(key, () => ({ bytes: build(), meta: null }))).session;
  }

  sessionOptions(): Ort.InferenceSession.SessionOptions {
    const cpu = this.report.provider === 'cpu';
    return {
      executionProviders: cpu ? ['cpu'] : [this.report.provider, 'cpu'],
      intraOpNumThreads: this.report.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    };
  }

  tensor(data: Float32Array, dims: readonly number[]): Ort.Tensor {
    return new this.ort.Tensor('float32', data, dims);
  }

  /** Frees every cached session. */
  async close(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s.catch(() => null))?.session.release()));
  }
}

const objectKeys = new WeakMap<object, number>();
let nextObjectKey = 0;

/** A number naming `value` for session cache keys (a model object), stable while it lives. */
export function objectKey(value: object): number {
  let key = objectKeys.get(value);
  if (key === undefined) objectKeys.set(value, (key = nextObjectKey++));
  return key;
}

/** A kernel in session cache keys. */
export function kernelKey(kernel: KernelSpec): string {
  return kernel.kind === 'rbf' ? `rbf(${kernel.threshold})` : 'linear';
}

/** One human-readable line: which provider runs and why the faster ones did not. */
export function formatOnnxRuntimeReport(report: OnnxRuntimeReport): string {
  const why = report.selection === 'forced' ? 'forced' : 'fastest available';
  const skipped = report.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  return `ONNX Runtime ${report.version}: ${report.provider} (${report.description}; ${why}; ${report.threads} threads)${skipped ? ` — skipped ${skipped}` : ''}`;
}
