/**
 * A minimal event emitter shaped like `vscode.EventEmitter`, so the modules that hold state
 * (server client, run tracker) stay free of `vscode` and run under node's test runner.
 */
export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (value: T) => void;

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        // One listener's bug must not stop the others (nor reach the extension host).
        console.error('[repsim] event listener failed:', error);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
