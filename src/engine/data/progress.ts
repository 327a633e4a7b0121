/**
 * Throttled progress reports, so that a 170 MB file read in 64 KiB chunks gives a few hundred
 * callbacks rather than thousands.
 */
import type { LoadProgress } from './types.js';

const MIN_STEP_BYTES = 1 << 20;

/**
 * A function to call with the running count: it reports the first call, then whenever the
 * count has moved by a percent of `total` (at least 1 MiB), and always the final count.
 */
export function throttledProgress(
  onProgress: ((progress: LoadProgress) => void) | undefined,
  phase: LoadProgress['phase'],
  file: string,
  total: number,
): (done: number, final?: boolean) => void {
  if (!onProgress) return () => undefined;
  const step = Math.max(MIN_STEP_BYTES, total / 100);
  let reported = -Infinity;
  return (done, final = false) => {
    if (final || done === total || done - reported >= step) {
      reported = done;
      onProgress({ phase, file, done, total });
    }
  };
}
