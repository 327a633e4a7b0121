/**
 * RepSim's settings (`contributes.configuration`), read and resolved: paths may use `~` and
 * `${workspaceFolder}`, relative paths resolve against the workspace folder, and the cache
 * defaults to `<workspace>/.repsim`.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { RequestedBackend } from '../protocol/index.js';

export const SETTINGS_SECTION = 'repsim';
/** Settings the server reads at start: changing one restarts it. */
export const SERVER_SETTINGS = ['backend', 'dataDirectory', 'cacheDirectory'] as const;

// Listed here rather than imported: the engine's list would pull TensorFlow.js into the extension.
const BACKENDS: readonly RequestedBackend[] = ['auto', 'onnx-cuda', 'onnx-tensorrt', 'onnx-dml', 'onnx-coreml', 'onnx-cpu', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface RawSettings {
  readonly backend?: unknown;
  readonly dataDirectory?: unknown;
  readonly cacheDirectory?: unknown;
  readonly defaultBatchSize?: unknown;
  readonly defaultPasses?: unknown;
}

export interface ResolvedSettings {
  readonly backend: RequestedBackend;
  readonly dataDirectory?: string;
  readonly cacheDirectory?: string;
  readonly defaultBatchSize: number;
  readonly defaultPasses: number;
}

export const DEFAULT_BATCH_SIZE = 256;
export const DEFAULT_PASSES = 1;

export function resolveSettingPath(value: unknown, workspaceFolder: string | undefined, home = homedir()): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  let path = value.trim();
  if (workspaceFolder) path = path.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  if (path === '~' || path.startsWith('~/')) path = join(home, path.slice(1));
  if (isAbsolute(path)) return resolve(path);
  return workspaceFolder ? resolve(workspaceFolder, path) : undefined;
}

function positiveInteger(value: unknown, fallback: number, minimum: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= minimum ? value : fallback;
}

export function resolveSettings(raw: RawSettings, workspaceFolder: string | undefined, home = homedir()): ResolvedSettings {
  const backend = BACKENDS.includes(raw.backend as RequestedBackend) ? (raw.backend as RequestedBackend) : 'auto';
  return {
    backend,
    dataDirectory: resolveSettingPath(raw.dataDirectory, workspaceFolder, home),
    cacheDirectory: resolveSettingPath(raw.cacheDirectory, workspaceFolder, home) ?? (workspaceFolder ? join(workspaceFolder, '.repsim') : undefined),
    // The schema's minimum batch size is 4.
    defaultBatchSize: positiveInteger(raw.defaultBatchSize, DEFAULT_BATCH_SIZE, 4),
    defaultPasses: positiveInteger(raw.defaultPasses, DEFAULT_PASSES, 1),
  };
}
