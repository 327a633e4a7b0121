/** A one-line progress indicator on stderr (only when stderr is a terminal). */
export class ProgressLine {
  private readonly started = Date.now();
  private readonly enabled = process.stderr.isTTY === true;
  private drawn = false;

  /** `etaSeconds`, when the caller knows it better than this line's own elapsed-time estimate. */
  update(done: number, total: number, label: string, etaSeconds?: number): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = Math.round((done / Math.max(total, 1)) * width);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = etaSeconds ?? (done > 0 ? (elapsed / done) * (total - done) : NaN);
    const etaText = Number.isFinite(eta) ? ` ETA ${eta.toFixed(0)}s` : '';
    process.stderr.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}${etaText}`);
    this.drawn = true;
  }

  /** Clears the line so that a log message can be printed. */
  clear(): void {
    if (this.enabled && this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }

  finish(): void {
    if (this.enabled && this.drawn) process.stderr.write('\n');
    this.drawn = false;
  }
}
