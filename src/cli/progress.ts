/** A one-line progress indicator on stderr (only when stderr is a terminal). */
export class ProgressLine {
  private readonly started = Date.now();
  private readonly enabled = process.stderr.isTTY === true;

  update(done: number, total: number, label: string): void {
    if (!this.enabled) return;
    const width = 24;
    const filled = Math.round((done / Math.max(total, 1)) * width);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
    const etaText = Number.isFinite(eta) ? ` ETA ${eta.toFixed(0)}s` : '';
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}${etaText}  `);
  }

  finish(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
