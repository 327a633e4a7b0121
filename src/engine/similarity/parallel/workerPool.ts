/**
 * Splits each batch's gram work over worker threads, balancing by cost (n²·features,
 * largest first onto the least-loaded worker), and puts the results back in layer order.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../../backend/index.js';
import { InputError } from '../../errors.js';
import { bundledScript } from '../../packageRoot.js';
import type { CenteredGram, Centering, LayerBatch } from '../centeredGrams.js';
import { gramCost } from '../centeredGrams.js';
import type { GramMemoryEngine } from '../fullDataMemory.js';
import type { GramEngine } from '../gramEngine.js';
import type { KernelSpec } from '../kernel.js';
import type { GramRequest, GramResponse, GramWorkerData, GramWorkerReady } from './messages.js';

interface PendingRequest {
  resolve(grams: readonly CenteredGram[]): void;
  reject(error: Error): void;
}

class GramWorker {
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 0;
  readonly ready: Promise<void>;

  constructor(private readonly worker: Worker) {
    this.ready = new Promise((resolve, reject) => {
      worker.once('message', (message: GramWorkerReady) => {
        if (message.ready) resolve();
        else reject(new Error(`gram worker could not start its backend: ${message.error}`));
        worker.on('message', (response: GramResponse) => this.settle(response));
      });
      worker.once('error', reject);
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`gram worker exited with code ${code}`)));
  }

  compute(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<readonly CenteredGram[]> {
    const id = this.nextId++;
    // Copy each batch into its own buffer and hand it over: a view may share its buffer with
    // the whole file's activations, which must not be detached.
    const owned = layers.map((layer) => ({ rows: layer.rows, cols: layer.cols, data: layer.data.slice() }));
    const request: GramRequest = { id, kernel, centering, layers: owned };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(request, owned.map((layer) => layer.data.buffer as ArrayBuffer));
    });
  }

  private settle(response: GramResponse): void {
    const request = this.pending.get(response.id);
    if (!request) return;
    this.pending.delete(response.id);
    if ('grams' in response) request.resolve(response.grams);
    else request.reject(response.inputError ? new InputError(response.error) : new Error(response.error));
  }

  private failAll(error: Error): void {
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Assigns items to `bins` by longest-processing-time-first; returns the item indices per bin. */
export function balance(costs: readonly number[], bins: number): number[][] {
  const assignment: number[][] = Array.from({ length: bins }, () => []);
  const load = new Array<number>(bins).fill(0);
  const order = costs.map((_, i) => i).sort((a, b) => costs[b] - costs[a]);
  for (const item of order) {
    const bin = load.indexOf(Math.min(...load));
    assignment[bin].push(item);
    load[bin] += costs[item];
  }
  return assignment;
}

export class WorkerPoolGramEngine implements GramEngine {
  readonly description: string;
  readonly memoryEngine: GramMemoryEngine;

  private constructor(private readonly workers: readonly GramWorker[], backend: BackendName) {
    this.description = `${workers.length} worker threads (${backend})`;
    this.memoryEngine = { kind: 'tfjs', backend, workers: workers.length };
  }

  static async start(backend: BackendName, threads = availableParallelism()): Promise<WorkerPoolGramEngine> {
    const script = bundledScript('gram-worker.js');
    const workerData: GramWorkerData = { backend };
    const workers = Array.from({ length: Math.max(1, threads) }, () => new GramWorker(new Worker(script, { workerData })));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    return new WorkerPoolGramEngine(workers, backend);
  }

  async grams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<CenteredGram[]> {
    const shares = balance(layers.map(gramCost), this.workers.length);
    const results = await Promise.all(
      shares.map((indices, w) => (indices.length ? this.workers[w].compute(indices.map((i) => layers[i]), kernel, centering) : Promise.resolve([]))),
    );
    const grams = new Array<CenteredGram>(layers.length);
    shares.forEach((indices, w) => indices.forEach((layerIndex, k) => (grams[layerIndex] = results[w][k])));
    return grams;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
