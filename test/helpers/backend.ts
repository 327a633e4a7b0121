import { initBackend, isBackendName, type BackendReport } from '../../src/engine/backend/index.js';

/** Starts the backend named by REPSIM_TEST_BACKEND (default: the fastest available) once. */
export function testBackend(): Promise<BackendReport> {
  const requested = process.env.REPSIM_TEST_BACKEND ?? 'auto';
  if (requested !== 'auto' && !isBackendName(requested)) throw new Error(`REPSIM_TEST_BACKEND: unknown backend '${requested}'`);
  return initBackend(requested);
}
