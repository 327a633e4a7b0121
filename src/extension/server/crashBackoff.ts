/**
 * When to restart the compute server after a crash: soon after the first, later after the
 * next, and not at all after a few crashes in quick succession (something is wrong that a
 * restart will not fix; the user is told and can start it again by running something).
 */
export interface BackoffOptions {
  /** This many crashes within `windowMs` and the server is not restarted again. */
  readonly maxCrashes: number;
  readonly windowMs: number;
  /** Delay before the first restart; doubles with each crash in the window. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { maxCrashes: 3, windowMs: 3 * 60_000, initialDelayMs: 1_000, maxDelayMs: 10_000 };

export type CrashDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly crashesInWindow: number }
  | { readonly action: 'give-up'; readonly crashesInWindow: number };

export class CrashBackoff {
  private crashes: number[] = [];

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  recordCrash(now: number): CrashDecision {
    this.crashes = [...this.crashes.filter((t) => now - t < this.options.windowMs), now];
    const count = this.crashes.length;
    if (count >= this.options.maxCrashes) return { action: 'give-up', crashesInWindow: count };
    const delayMs = Math.min(this.options.initialDelayMs * 2 ** (count - 1), this.options.maxDelayMs);
    return { action: 'restart', delayMs, crashesInWindow: count };
  }

  /** Forget past crashes (the user asked for a start). */
  reset(): void {
    this.crashes = [];
  }
}
