/**
 * What the TypeScript benches share (bench/minibatch-heatmap.bench.ts, bench/models.bench.ts,
 * bench/resnet20-heatmap.bench.ts): the machine is shared, so each timed section waits for idle
 * cores, measures other processes' CPU use while it runs (Linux /proc/stat), is repeated when
 * disturbed (within a retry budget) and keeps its least disturbed attempt. Each bench passes its
 * own thresholds (quiet and contended cores, wait seconds, retries, deadline). Also: a model's
 * forward FLOPs and the CPU's name, for the limits and machine lines the benches print.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type * as tfl from '@tensorflow/tfjs-layers';

// --- Contention -------------------------------------------------------------------------------

/** CPU seconds all processes have spent busy since boot (/proc/stat), or null off Linux. */
export function busySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
    const ticksPerSecond = 100; // USER_HZ on Linux
    return (fields.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** CPU time other processes used while a section ran (Linux /proc/stat), in cores. */
export class BackgroundLoad {
  private readonly busyAtStart = busySeconds();
  private readonly ownAtStart = process.cpuUsage();
  private readonly startedAt = performance.now();

  /** Other processes' average CPU use since construction, in cores; null where /proc/stat is missing. */
  cores(): number | null {
    const busy = busySeconds();
    if (busy === null || this.busyAtStart === null) return null;
    const own = process.cpuUsage(this.ownAtStart);
    const wall = (performance.now() - this.startedAt) / 1000;
    return Math.max(0, busy - this.busyAtStart - (own.user + own.system) / 1e6) / wall;
  }
}

export interface QuietWait {
  readonly waitedSeconds: number;
  /** Other processes' load when it gave up waiting (the section starts busy), else null. */
  readonly busyCores: number | null;
}

/**
 * Waits until other processes use under `quietCores` over a 1 s sample, at most `maxSeconds`,
 * so that a measurement starts on idle cores.
 */
export async function waitForQuiet(maxSeconds: number, quietCores: number): Promise<QuietWait> {
  const started = performance.now();
  for (;;) {
    const sample = new BackgroundLoad();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = sample.cores();
    const waitedSeconds = (performance.now() - started) / 1000;
    if (busy === null || busy < quietCores) return { waitedSeconds, busyCores: null };
    if (waitedSeconds >= maxSeconds) return { waitedSeconds, busyCores: busy };
  }
}

/** Whether other processes' load during a timed section (`cores`) is above `contendedCores`. */
export function isContended(cores: number | null, contendedCores: number): boolean {
  return cores !== null && cores > contendedCores;
}

/** When a disturbed timed section is run again. */
export interface RetryPolicy {
  /** Other processes' average CPU use above which a section counts as disturbed. */
  readonly contendedCores: number;
  /** Extra attempts after the first. */
  readonly maxRetries: number;
  /** Epoch ms after which no attempt starts that would end past it. */
  readonly deadline: number;
}

/** Whether to time a section again after `attempts` attempts, the last taking `seconds` under `backgroundCores`. */
export function shouldRetry(attempts: number, seconds: number, backgroundCores: number | null, policy: RetryPolicy): boolean {
  return isContended(backgroundCores, policy.contendedCores) && attempts <= policy.maxRetries && Date.now() + seconds * 1000 <= policy.deadline;
}

/** The attempt other processes disturbed least (the first of equals; unmeasured load counts as 0). */
export function leastDisturbed<T extends { readonly backgroundCores: number | null }>(attempts: readonly T[]): T {
  return attempts.reduce((best, attempt) => ((attempt.backgroundCores ?? 0) < (best.backgroundCores ?? 0) ? attempt : best));
}

export interface Timed<T> {
  readonly result: T;
  readonly seconds: number;
  readonly backgroundCores: number | null;
}

/**
 * Times `body` after waiting (at most `quietWaitSeconds`) for a quiet machine; while other
 * processes disturbed it, runs it again as `policy` allows, calling `onDisturbed` first, and
 * returns the least disturbed attempt.
 */
export async function timeLeastDisturbed<T>(
  body: () => Promise<T>,
  options: { readonly quietCores: number; readonly quietWaitSeconds: number; readonly policy: RetryPolicy; readonly onDisturbed?: (backgroundCores: number | null) => void },
): Promise<Timed<T>> {
  let kept: Timed<T> | null = null;
  for (let attempts = 1; ; attempts++) {
    await waitForQuiet(options.quietWaitSeconds, options.quietCores);
    const load = new BackgroundLoad();
    const start = performance.now();
    const result = await body();
    const run = { result, seconds: (performance.now() - start) / 1000, backgroundCores: load.cores() };
    kept = kept ? leastDisturbed([kept, run]) : run;
    if (!shouldRetry(attempts, run.seconds, run.backgroundCores, options.policy)) return kept;
    options.onDisturbed?.(run.backgroundCores);
  }
}

/** Other processes' load as printed beside a figure: '0.12 cores', or 'n/a'. */
export function formatCores(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)} cores`;
}

// --- Workloads and machine --------------------------------------------------------------------

/** Forward FLOPs of one example: 2·(output positions)·(kernel size)·(in)·(out) per conv and dense layer. */
export function forwardFlops(model: tfl.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const config = layer.getConfig() as { kernelSize?: number[]; filters?: number; units?: number };
    if (!config.units && !(config.filters && config.kernelSize)) continue;
    const out = layer.outputShape as number[];
    const inShape = (layer.input as tfl.SymbolicTensor).shape;
    const channelsIn = inShape[inShape.length - 1] ?? 0;
    if (config.filters && config.kernelSize) flops += 2 * out[1] * out[2] * config.kernelSize[0] * config.kernelSize[1] * channelsIn * config.filters;
    else flops += 2 * channelsIn * config.units!;
  }
  return flops;
}

/** The CPU's model name (lscpu, else Node's), for a bench's machine line. */
export function cpuModel(): string {
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' });
  return /Model name:\s*(.+)/.exec(lscpu.stdout ?? '')?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown CPU';
}

// --- Running a bench --------------------------------------------------------------------------

/** Prints each failure as a `FAILED:` line; returns the exit code (1 when any). */
export function reportFailures(failures: readonly string[], log: (line: string) => void): number {
  for (const failure of failures) log(`FAILED: ${failure}`);
  return failures.length ? 1 : 0;
}

/** Runs a bench's `main`, setting the exit code it returns (1, with the error printed, when it throws). */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
